"""The files generated from the detection models (`ingest detections sync`) are committed up to
date, and every detection is its two files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PROJECT_ROOT, Workspace, invoke


def test_generated_detection_files_are_up_to_date(tmp_path: Path) -> None:
    invoke(Workspace.create(tmp_path), "detections", "sync", "--check", "--project", PROJECT_ROOT)
    catalog = (PROJECT_ROOT / "detections/COVERAGE.md").read_text()
    assert "aws-cloudtrail-tampering" in catalog and "T1562.008" in catalog
    listed = (PROJECT_ROOT / "macros/detection_models.sql").read_text()
    for sql in (PROJECT_ROOT / "models/detections").rglob("*.sql"):
        assert f"'{sql.stem}'" in listed
        assert sql.with_suffix(".yml").exists(), f"{sql.name} has no .yml beside it"


def _project_with(tmp_path: Path, detections: dict[str, str]) -> Path:
    """A project holding only the given detection YAML (cloudtrail/<model>.yml)."""
    project = tmp_path / "project"
    for model, text in detections.items():
        path = project / "models" / "detections" / "cloudtrail" / f"{model}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


def _detection(model: str, tests: list[tuple[str, bool]]) -> str:
    lines = [
        "version: 2",
        "models:",
        f"  - name: {model}",
        "    config:",
        "      meta:",
        f"        detection_id: aws-{model}",
        "        title: t",
        "        severity: low",
        "        mitre_tactics: [impact]",
        "        mitre_techniques: [T1485]",
        "unit_tests:",
    ]
    for name, fires in tests:
        rows = '[{"event_id": "x"}]' if fires else "[]"
        lines += [
            f"  - name: {model}__{name}",
            f"    model: {model}",
            "    given: []",
            f"    expect: {{rows: {rows}}}",
        ]
    return "\n".join(lines) + "\n"


def test_coverage_names_each_detection_lacking_a_kind_of_test(tmp_path: Path) -> None:
    project = _project_with(
        tmp_path,
        {
            "complete": _detection(
                "complete", [("fires", True), ("ignores", False), ("sso", False)]
            ),
            "two_tests": _detection("two_tests", [("fires", True), ("ignores", False)]),
            "never_quiet": _detection("never_quiet", [("a", True), ("b", True), ("c", True)]),
        },
    )
    samples = project / "tests" / "detections"
    samples.mkdir(parents=True)
    for model in ("complete", "two_tests", "never_quiet"):
        (samples / f"{model}.json").write_text('{"fires": [], "ignores": []}')
    ws = Workspace.create(tmp_path / "ws")
    result = invoke(
        ws, "detections", "coverage", "--check", "--json", "--project", project, expect=1
    )
    report = json.loads(result.stdout)
    assert report["gaps"] == {
        "aws-two_tests": ["edge case"],
        "aws-never_quiet": ["ignores", "edge case"],
    }
    assert report["totals"]["cloudtrail detections"] == 3
    assert report["totals"]["unit tests"] == 8

    (samples / "complete.json").unlink()
    result = invoke(ws, "detections", "coverage", "--json", "--project", project, expect=0)
    assert json.loads(result.stdout)["gaps"]["aws-complete"] == ["raw sample"]


def test_the_shipped_library_meets_its_floor(tmp_path: Path) -> None:
    result = invoke(
        Workspace.create(tmp_path), "detections", "coverage", "--json", "--project", PROJECT_ROOT
    )
    report = json.loads(result.stdout)
    assert report["totals"]["cloudtrail detections"] >= 200
    assert report["totals"]["unit tests"] >= 600
    assert report["gaps"] == {}
    # object-level S3 and EBS direct-API detections say they need data events
    assert report["totals"]["needing data events"] >= 8
    catalog = (PROJECT_ROOT / "detections" / "COVERAGE.md").read_text()
    assert "| AWS::EC2::Snapshot |" in catalog
