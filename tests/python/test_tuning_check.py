"""`ingest detections check`: the tuning vars against the JSON Schema and the detection library,
before any build, naming the line of each problem."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PROJECT_ROOT, Workspace, invoke


def _check(tmp_path: Path, *args: object, expect: int) -> str:
    ws = Workspace.create(tmp_path / "ws")
    result = invoke(ws, "detections", "check", *args, expect=expect)
    return result.output


def test_the_shipped_tuning_is_valid(tmp_path: Path) -> None:
    assert "valid" in _check(tmp_path, "--project", PROJECT_ROOT, expect=0)


def test_misspelt_ids_and_parameters_and_wrong_kinds_are_named(tmp_path: Path) -> None:
    tuning = {
        "detections": {
            "aws-acces-denied-burst": {"enabled": False},
            "aws-access-denied-burst": {"params": {"at_leastt": 3, "minutes": ["10"]}},
            "aws-principal-first-use-of-abused-service": {"params": {"services": ["ses"]}},
            "*": {"params": {"services": 3}},
        }
    }
    output = _check(tmp_path, "--project", PROJECT_ROOT, "--vars", json.dumps(tuning), expect=1)
    assert "aws-acces-denied-burst: no detection with this id (did you mean " in output
    assert "aws-access-denied-burst does not read this parameter (it reads: at_least, minutes)" in (
        " ".join(output.split())
    )
    assert "params.minutes: expected a number" in output
    assert "*.params.services: expected a list" in output
    assert "abused-service" not in output  # a list where a list is read is fine


def test_shape_errors_name_the_line_of_dbt_project_yml(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "models").symlink_to(PROJECT_ROOT / "models")
    text = (PROJECT_ROOT / "dbt_project.yml").read_text()
    bad = (
        "  detections:\n"
        "    aws-root-console-login: {severity: urgent, muted: true}\n"
        "    '*': {exclude: [{'Event Name': x}]}\n"
    )
    assert "  detections: {}\n" in text
    text = text.replace("  detections: {}\n", bad)
    text = text.replace(
        "    - {when: {is_break_glass: true}, raise: 1, reason: break-glass principal}\n",
        "    - {when: {is_break_glass: true}, raise: 1, set: high, reason: both}\n",
    )
    (project / "dbt_project.yml").write_text(text)
    line = text.splitlines().index("    aws-root-console-login: {severity: urgent, muted: true}")
    output = " ".join(_check(tmp_path, "--project", project, expect=1).split())
    assert f"dbt_project.yml:{line + 1}: vars.detections.aws-root-console-login: " in output
    assert "'urgent' is not one of" in output
    assert "unknown key: 'muted' was unexpected" in output
    assert "'Event Name' does not match" in output
    assert "a rule needs exactly one of raise, lower, set" in output
