"""Detections on raw CloudTrail: each `tests/detections/<model>.json` holds records as CloudTrail
delivers them (`fires` and `ignores`). All of them land in one lake through the real ingest and
staging, and each detection must alert on its `fires` records and on none of its `ignores`: a
field path the unit tests' hand-filled columns got wrong fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import coverage

from conftest import (
    BUILD,
    PROJECT_ROOT,
    Workspace,
    alerts,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

pytestmark = pytest.mark.e2e

SAMPLES = sorted((PROJECT_ROOT / "tests" / "detections").glob("det_*.json"))


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """detection_id → the event ids its alerts hold, on one lake of every sample."""
    ws = Workspace.create(tmp_path_factory.mktemp("samples"))
    records = []
    for path in SAMPLES:
        sample = json.loads(path.read_text())
        records += sample["fires"] + sample["ignores"]
    run_ingest(ws, "load", "cloudtrail", write_delivery_file(ws.root / "samples.json.gz", records))
    run_dbt(ws, *BUILD)
    raised: dict[str, set[str]] = {}
    for alert in alerts(ws):
        raised.setdefault(alert["detection_id"], set()).update(alert["event_ids"])
    return raised


def test_every_sample_file_names_a_detection() -> None:
    models = {d.model for d in coverage.load(PROJECT_ROOT)}
    assert SAMPLES, "no samples under tests/detections"
    assert {p.stem for p in SAMPLES} <= models


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_a_detection_alerts_on_its_raw_samples(path: Path, sampled: dict[str, set[str]]) -> None:
    (detection,) = [d for d in coverage.load(PROJECT_ROOT) if d.model == path.stem]
    sample = json.loads(path.read_text())
    raised = sampled.get(detection.detection_id, set())
    fires = {r["eventID"] for r in sample["fires"]}
    ignores = {r["eventID"] for r in sample["ignores"]}
    assert fires, f"{path.name} has no record that fires"
    assert fires <= raised, f"missed: {sorted(fires - raised)}"
    assert not ignores & raised, f"alerted on: {sorted(ignores & raised)}"
