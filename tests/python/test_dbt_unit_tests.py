"""dbt's unit tests: normalization, enrichment, and each detection's fires / does not fire
cases (the lake builds elsewhere in the suite leave them out)."""

from __future__ import annotations

import json
import re

from conftest import (
    Workspace,
    cloudtrail_record,
    run_dbt,
    run_ingest,
    write_delivery_file,
)


def test_every_unit_test_passes_on_a_lake_with_nothing_landed(workspace: Workspace) -> None:
    """Every dbt unit test (normalization, enrichment, each detection's fires / does not fire)
    in the first `dbt build` of a fresh clone, before anything was loaded: a source that has
    not landed is no error, and its unit tests read their fixtures. The other builds in this
    suite leave the unit tests out."""
    out = run_dbt(workspace, "build")
    manifest = json.loads((workspace.root / "target" / "manifest.json").read_text())
    unit_tests = {test["name"] for test in manifest["unit_tests"].values()}
    assert len(unit_tests) >= 147
    passed = {m.group(1) for m in re.finditer(r" PASS \S+::(\S+) ", out)}
    assert passed >= unit_tests, sorted(unit_tests - passed)[:10]
    assert re.search(r"WARN=0 ERROR=0 SKIP=0", out), out[-3000:]


def test_failing_unit_test_fails_the_build(workspace: Workspace) -> None:
    """The unit tests guard the normalization: a wrong expectation must fail `dbt build`."""
    project = workspace.project_copy()
    models = project / "models/staging/cloudtrail/_cloudtrail__models.yml"
    models.write_text(models.read_text().replace("principal_name: root", "principal_name: admin"))
    write_delivery_file(workspace.root / "one.json.gz", [cloudtrail_record("e-1")])
    run_ingest(workspace, "load", "cloudtrail", workspace.root / "one.json.gz")
    out = run_dbt(workspace, "build", "--select", "stg_cloudtrail__events", expect_pass=False)
    assert "stg_cloudtrail__events_normalizes_root" in out


def test_a_parse_holds_nothing_of_the_lake(workspace: Workspace) -> None:
    """The lake's path is read when a model runs, never when dbt parses: a saved parse then
    serves a lake moved or switched (TRAILHOUSE_LAKE) without parsing the project again."""
    run_dbt(workspace, "parse")
    target = workspace.root / "target"
    manifest = (target / "manifest.json").read_text()
    assert '"source.trailhouse.landing.cloudtrail"' in manifest
    assert str(workspace.lake) not in manifest
    assert str(workspace.lake).encode() not in (target / "partial_parse.msgpack").read_bytes()
