"""dbt's unit tests: normalization, enrichment, and each detection's fires / does not fire
cases, on a tiny lake (the lake builds elsewhere in the suite leave them out)."""

from __future__ import annotations

import json
import re

from conftest import (
    WEB_SAMPLE,
    Workspace,
    cloudtrail_record,
    run_dbt,
    run_ingest,
    write_delivery_file,
)


def test_every_unit_test_passes(workspace: Workspace) -> None:
    """Every dbt unit test (normalization, enrichment, each detection's fires / does not fire)
    on a tiny lake: the other builds in this suite leave them out."""
    # the models the unit tests mock must exist: a record of each source builds them
    write_delivery_file(workspace.root / "one.json.gz", [cloudtrail_record("e-1")])
    run_ingest(workspace, "load", "cloudtrail", workspace.root / "one.json.gz")
    (workspace.root / "access.log").write_text(WEB_SAMPLE.read_text().splitlines()[0] + "\n")
    run_ingest(workspace, "load", "access-log", workspace.root / "access.log")
    run_dbt(workspace, "build", "--exclude", "resource_type:test", "resource_type:unit_test")
    out = run_dbt(workspace, "test", "--select", "test_type:unit")
    manifest = json.loads((workspace.root / "target" / "manifest.json").read_text())
    expected = len(manifest["unit_tests"])
    assert expected >= 147
    assert re.search(rf"PASS={expected} WARN=0 ERROR=0 SKIP=0", out), out[-3000:]


def test_failing_unit_test_fails_the_build(workspace: Workspace) -> None:
    """The unit tests guard the normalization: a wrong expectation must fail `dbt build`."""
    project = workspace.project_copy()
    models = project / "models/staging/cloudtrail/_cloudtrail__models.yml"
    models.write_text(models.read_text().replace("principal_name: root", "principal_name: admin"))
    write_delivery_file(workspace.root / "one.json.gz", [cloudtrail_record("e-1")])
    run_ingest(workspace, "load", "cloudtrail", workspace.root / "one.json.gz")
    out = run_dbt(workspace, "build", "--select", "stg_cloudtrail__events", expect_pass=False)
    assert "stg_cloudtrail__events_normalizes_root" in out
