"""What a build costs follows what changed: unchanged views are left alone, data tests check the
partitions the build touched, and detections read each day's events once."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from conftest import BUILD, Workspace, cloudtrail_record, run_dbt, run_ingest, write_delivery_file

pytestmark = pytest.mark.e2e


def views_created(ws: Workspace, *args: str) -> set[str]:
    """Run a dbt build; return the views it created (read from the statements it logged)."""
    log = ws.root / "logs/dbt.log"
    start = log.stat().st_size if log.exists() else 0
    run_dbt(ws, *BUILD, *args)
    with log.open() as handle:
        handle.seek(start)
        issued = handle.read()
    return set(re.findall(r'create view "[^"]+"\."main"\."(\w+)__dbt_tmp"', issued))


def land(ws: Workspace, tag: str, records: list[dict]) -> None:
    write_delivery_file(ws.root / f"{tag}.json.gz", records)
    run_ingest(ws, "load", "cloudtrail", str(ws.root / f"{tag}.json.gz"))


def day_records(tag: str, day: str, count: int) -> list[dict]:
    return [cloudtrail_record(f"{tag}-{n}", when=f"{day}T12:{n:02d}:00Z") for n in range(count)]


def test_a_build_recreates_only_the_views_whose_sql_changed(workspace: Workspace) -> None:
    ws = workspace
    land(ws, "views", day_records("views", "2026-03-01", 3))
    assert {"stg_cloudtrail__events", "int_cloudtrail__filtered", "events"} <= views_created(ws)
    assert views_created(ws) == set()
    assert ws.read("select count(*) from cloudtrail_events") == [(3,)]

    # A storage filter changes one view's SQL: that view is created again (the others are
    # not), and the lake dataset it feeds is rebuilt, since its logic changed.
    filters = json.dumps({"storage_filters": {"cloudtrail": ["event_name != 'ListUsers'"]}})
    assert views_created(ws, "--vars", filters) == {"int_cloudtrail__filtered"}
    assert ws.read("select count(*) from cloudtrail_events") == [(0,)]

    # A view dropped behind dbt's back is created again; --full-refresh re-creates them all.
    con = duckdb.connect(str(ws.db))
    con.execute("drop view events")
    con.close()
    assert views_created(ws, "--vars", filters) == {"events"}
    everything = views_created(ws, "--vars", filters, "--full-refresh")
    assert {"events", "stg_cloudtrail__events", "int_cloudtrail__filtered"} <= everything


def test_data_tests_check_the_partitions_the_build_touched(workspace: Workspace) -> None:
    ws = workspace
    land(ws, "old", day_records("old", "2026-03-01", 3))
    run_dbt(ws, *BUILD)

    # A duplicate row planted in the published partition of 2026-03-01 (its input is
    # unchanged, so no build rewrites it): only a check of that partition can see it.
    published = ws.lake / "cloudtrail_events/event_date=2026-03-01/data_0.parquet"
    tampered = ws.root / "tampered.parquet"
    duckdb.sql(
        f"copy (select * from read_parquet('{published}') union all "
        f"(select * from read_parquet('{published}') limit 1)) to '{tampered}' (format parquet)"
    )
    tampered.replace(published)

    # New events for another day: the build checks that day only, and passes.
    land(ws, "new", day_records("new", "2026-03-02", 2))
    out = run_dbt(ws, *BUILD)
    assert "cloudtrail_events: rebuilt 1, merged 0, removed 0 of 2" in out

    # The whole lake, on demand: `dbt test` on its own, or full_checks on a build.
    out = run_dbt(ws, "test", "--select", "cloudtrail_events", expect_pass=False)
    assert "unique_cloudtrail_events_event_id" in out
    out = run_dbt(ws, *BUILD, "--vars", json.dumps({"full_checks": True}), expect_pass=False)
    assert "unique_cloudtrail_events_event_id" in out

    # A build with nothing new checks nothing of cloudtrail_events, and passes.
    run_dbt(ws, *BUILD)


def test_a_day_whose_tests_failed_is_checked_again_by_the_next_build(
    workspace: Workspace,
) -> None:
    ws = workspace
    land(ws, "good", day_records("good", "2026-03-01", 2))
    run_dbt(ws, *BUILD)
    # A caller type the principal-types seed does not know: a warning by design, an error
    # under --warn-error, for one day.
    odd = cloudtrail_record("odd", when="2026-03-02T08:00:00Z")
    odd["userIdentity"] = {**odd["userIdentity"], "type": "NotAType"}
    land(ws, "odd", [odd])
    strict = (*BUILD, "--warn-error")
    assert "relationships_cloudtrail_events_principal_type" in run_dbt(
        ws, *strict, expect_pass=False
    )
    # Nothing new lands: the day is still unchecked, so the next build checks it again.
    assert "relationships_cloudtrail_events_principal_type" in run_dbt(
        ws, *strict, expect_pass=False
    )
    # Once its tests pass (a warning passes), the day is checked: no longer read.
    run_dbt(ws, *BUILD)
    run_dbt(ws, *strict)
    # `dbt run` runs no tests: the days it builds stay unchecked for the next build.
    land(ws, "later", day_records("later", "2026-03-03", 1))
    run_dbt(ws, "run")
    run_dbt(ws, *strict)
    compiled = next(
        (ws.root / "target/run").rglob("relationships_cloudtrail_event_*.sql")
    ).read_text()
    assert "2026-03-03" in compiled and "2026-03-02" not in compiled


def test_a_seed_change_rechecks_every_day_of_the_views_reading_it(workspace: Workspace) -> None:
    ws = workspace
    project = ws.project_copy()
    land(ws, "a", day_records("a", "2026-03-01", 2))
    run_dbt(ws, *BUILD)
    land(ws, "b", day_records("b", "2026-03-02", 1))
    run_dbt(ws, *BUILD)
    compiled = next((ws.root / "target/run").rglob("expression_is_true_events_*.sql")).read_text()
    assert "2026-03-02" in compiled and "2026-03-01" not in compiled
    # A changed severity rule changes what `events` returns for every day, though no lake
    # partition changed: every day is checked, once.
    rules = project / "seeds/event_severity_rules.csv"
    rules.write_text(rules.read_text().replace("a failed call", "a call that failed"))
    run_dbt(ws, *BUILD)
    assert "where false" not in events_test_sql(ws) and "2026-03-0" not in events_test_sql(ws)
    run_dbt(ws, *BUILD)
    assert "where false" in events_test_sql(ws)


def events_test_sql(ws: Workspace) -> str:
    compiled = next((ws.root / "target/run").rglob("expression_is_true_events_*.sql"))
    return " ".join(compiled.read_text().split())


def test_views_over_lake_datasets_are_checked_for_the_touched_days(workspace: Workspace) -> None:
    ws = workspace
    land(ws, "a", day_records("a", "2026-03-01", 2) + day_records("b", "2026-03-03", 2))
    run_dbt(ws, *BUILD)
    land(ws, "c", day_records("c", "2026-03-03", 1))
    run_dbt(ws, *BUILD)
    compiled = next((ws.root / "target/run").rglob("expression_is_true_events_*.sql")).read_text()
    assert "2026-03-03" in compiled and "2026-03-01" not in compiled
    compiled = next(
        (ws.root / "target/run").rglob("required_schema_fields_ocsf_api_activity_*.sql")
    ).read_text()
    assert "epoch_ms(timestamptz '2026-03-03 00:00:00+00')" in compiled


def test_alerts_read_each_day_once_and_match_a_full_rebuild(workspace: Workspace) -> None:
    """Detections share one working set per day (only the columns the alerts SQL names); the
    alerts are the ones a build from scratch makes."""
    ws = workspace
    records = [
        cloudtrail_record(
            f"stop-{n}",
            when=f"2026-03-0{1 + n % 2}T10:0{n}:00Z",
            eventSource="cloudtrail.amazonaws.com",
            eventName="StopLogging",
            requestParameters={"name": f"trail-{n}"},
        )
        for n in range(4)
    ]
    land(ws, "stops", records[:2])
    run_dbt(ws, *BUILD)
    land(ws, "more-stops", records[2:])
    run_dbt(ws, *BUILD)
    log = (ws.root / "logs/dbt.log").read_text()
    # every working set (alerts', baseline_days') reads only the columns its SQL names
    columns = [
        part.split("from")[0]
        for part in log.split("create or replace temp table lake_working_set_1")[1:]
    ]
    assert columns and all('"raw"' not in c for c in columns)
    assert any('"event_name"' in c for c in columns)
    incremental = ws.read("select alert_id, event_count from alerts order by 1")
    assert len(incremental) >= 2
    run_dbt(ws, *BUILD, "--full-refresh")
    assert ws.read("select alert_id, event_count from alerts order by 1") == incremental


def test_a_day_is_built_from_that_day_s_input_only(workspace: Workspace) -> None:
    """The partition filter a lake dataset's build adds reaches the landing scan through every
    view of the chain. A view that reads one of its CTEs twice has it materialized by DuckDB
    whole, before any filter from outside: each day's build would then read (and spill) every
    day of the lake."""
    ws = workspace
    land(ws, "days", day_records("a", "2026-03-01", 2) + day_records("b", "2026-03-02", 2))
    run_dbt(ws, *BUILD)
    con = duckdb.connect(str(ws.db), read_only=True)
    chain = [
        name
        for (name,) in con.execute(
            # the staging and intermediate views a lake dataset's days are built from
            "select distinct table_name from duckdb_columns() where column_name = 'event_date' "
            "and regexp_matches(table_name, '^(stg|int)_')"
        ).fetchall()
    ]
    assert "int_cloudtrail__automation" in chain
    for name in chain:
        plan = con.execute(
            f"explain select * from {name} where event_date = date '2026-03-02'"
        ).fetchall()[0][1]
        assert "CTE" not in plan, f"{name} materializes a CTE before the partition filter"
    con.close()
