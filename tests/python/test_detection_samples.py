"""Detections on raw CloudTrail: each `tests/detections/<model>.json` holds records as CloudTrail
delivers them (`fires` and `ignores`). All of them land in one lake through the real ingest and
staging, and each detection must alert on its `fires` records and on none of its `ignores`: a
field path the unit tests' hand-filled columns got wrong fails here. The lake has GeoIP
databases (GEO_NETWORKS: networks no other sample uses), so country and network detections
are sampled too."""

from __future__ import annotations

import json
import os
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
    write_mmdb,
)

pytestmark = pytest.mark.e2e

SAMPLES = sorted((PROJECT_ROOT / "tests" / "detections").glob("det_*.json"))
# Country and ASN of the networks the GeoIP samples call from.
GEO_NETWORKS = {
    "185.199.108.0/24": ("US", 64511),
    "185.199.109.0/24": ("US", 64513),
    "77.88.55.0/24": ("NL", 64512),
}


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """detection_id → the event ids its alerts hold, on one lake of every sample."""
    root = tmp_path_factory.mktemp("samples")
    country = write_mmdb(
        root / "country.mmdb",
        "GeoLite2-Country",
        {net: {"country": {"iso_code": iso}} for net, (iso, _) in GEO_NETWORKS.items()},
    )
    asn = write_mmdb(
        root / "asn.mmdb",
        "GeoLite2-ASN",
        {
            net: {"autonomous_system_number": number, "autonomous_system_organization": "Ex"}
            for net, (_, number) in GEO_NETWORKS.items()
        },
    )
    ws = Workspace.create(root / "ws").with_env(TRAILHOUSE_GEOIP_DB=f"{country}{os.pathsep}{asn}")
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
