"""The files generated from the detection models (`ingest detections sync`) are committed up to
date, and every detection is its two files."""

from __future__ import annotations

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
