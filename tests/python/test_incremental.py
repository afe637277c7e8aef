"""Incremental, crash-safe builds of the `lake_partitions` datasets (cloudtrail_events)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import duckdb
import pytest

from ingest import compaction
from ingest.duck import connect
from ingest.lake import Lake

from conftest import (
    BUILD,
    DBT,
    Workspace,
    cloudtrail_record,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

pytestmark = pytest.mark.e2e


def partitions(ws: Workspace) -> dict[str, int]:
    """Rows per partition, reading every file: a partial file would fail here."""
    counts = {}
    for path in sorted((ws.lake / "cloudtrail_events").glob("*/*.parquet")):
        (rows,) = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchone()
        counts[path.parent.name] = counts.get(path.parent.name, 0) + rows
    return counts


def rows(ws: Workspace) -> list[tuple]:
    return ws.read("select * exclude (landed_at) from cloudtrail_events order by event_id")


def land_late_records(ws: Workspace, days: list[str], per_day: int, tag: str) -> None:
    records = [
        cloudtrail_record(f"{tag}-{day}-{n}", when=f"{day}T12:{n % 60:02d}:00Z")
        for day in days
        for n in range(per_day)
    ]
    write_delivery_file(ws.root / f"{tag}.json.gz", records)
    run_ingest(ws, "load", "cloudtrail", str(ws.root / f"{tag}.json.gz"))


def test_only_partitions_with_new_landing_files_are_rebuilt(workspace: Workspace) -> None:
    ws = workspace
    run_ingest(ws, "demo", "--events", "4000", "--days", "4", "--end", "2026-01-10T00:00:00Z")
    first = run_dbt(ws, *BUILD)
    assert "cloudtrail_events: rebuilt 4, merged 0, removed 0 of 4 partition(s)" in first
    before = {p: p.stat().st_mtime_ns for p in (ws.lake / "cloudtrail_events").rglob("*.parquet")}

    assert "rebuilt 0, merged 0, removed 0 of 4 partition(s)" in run_dbt(ws, *BUILD)

    # Compacting the landing zone keeps every row and when it landed: nothing to rebuild.
    run_ingest(ws, "compact", "--min-files", "2")
    assert "rebuilt 0, merged 0, removed 0 of 4 partition(s)" in run_dbt(ws, *BUILD)

    # A late record for an old day (merged into the published partition, without re-parsing
    # the day), and a day the lake has never seen (built).
    land_late_records(ws, ["2026-01-07", "2026-01-12"], per_day=1, tag="late")
    third = run_dbt(ws, *BUILD)
    assert "cloudtrail_events: rebuilt 1, merged 1, removed 0 of 5 partition(s)" in third
    # The merge appended the day's new row as a file of its own: no published file changed.
    after = {p: p.stat().st_mtime_ns for p in (ws.lake / "cloudtrail_events").rglob("*.parquet")}
    assert {p: after[p] for p in before} == before
    added = sorted(str(p.relative_to(ws.lake)) for p in set(after) - set(before))
    assert added == [
        "cloudtrail_events/event_date=2026-01-07/data_1.parquet",
        "cloudtrail_events/event_date=2026-01-12/data_0.parquet",
    ]
    (appended,) = duckdb.sql(f"select count(*) from '{ws.lake / added[0]}'").fetchone()
    assert appended == 1
    assert partitions(ws)["event_date=2026-01-12"] == 1
    assert sum(partitions(ws).values()) == 4002

    incremental = rows(ws)
    assert "rebuilt 5, merged 0, removed 0 of 5 partition(s) (full refresh)" in run_dbt(
        ws, *BUILD, "--full-refresh"
    )
    assert rows(ws) == incremental


def test_duplicate_delivery_is_one_row_and_reruns_never_duplicate(workspace: Workspace) -> None:
    ws = workspace
    land_late_records(ws, ["2026-02-01"], per_day=3, tag="dup")
    # The same records delivered again in another object, and the first object re-landed.
    same = [
        cloudtrail_record(f"dup-2026-02-01-{n}", when=f"2026-02-01T12:{n:02d}:00Z")
        for n in range(3)
    ]
    write_delivery_file(ws.root / "again.json.gz", same)
    run_ingest(
        ws, "load", "cloudtrail", str(ws.root / "again.json.gz"), str(ws.root / "dup.json.gz")
    )
    for _ in range(2):
        run_dbt(ws, *BUILD)
        assert partitions(ws) == {"event_date=2026-02-01": 3}

    # Delivered once more after the build, next to one new record: the merge keeps the
    # published copy and adds only the new record.
    write_delivery_file(
        ws.root / "third.json.gz",
        [*same, cloudtrail_record("dup-new", when="2026-02-01T13:00:00Z")],
    )
    run_ingest(ws, "load", "cloudtrail", str(ws.root / "third.json.gz"))
    assert "merged 1" in run_dbt(ws, *BUILD)
    assert partitions(ws) == {"event_date=2026-02-01": 4}
    ((landed_at,),) = ws.read(
        "select distinct landed_at from cloudtrail_events where event_id = 'dup-2026-02-01-0'"
    )
    assert landed_at < ws.read("select max(landed_at) from landing_cloudtrail")[0][0]


def test_merges_append_files_until_a_partition_is_compacted(workspace: Workspace) -> None:
    ws = workspace
    land_late_records(ws, ["2026-02-01"], per_day=3, tag="base")
    run_dbt(ws, *BUILD)
    compact_at = json.dumps({"max_files_per_partition": 3})
    day = ws.lake / "cloudtrail_events/event_date=2026-02-01"
    for batch in range(3):
        land_late_records(ws, ["2026-02-01"], per_day=2, tag=f"more{batch}")
        # the same record delivered again adds nothing, whichever batch it comes with
        land_late_records(ws, ["2026-02-01"], per_day=3, tag="base")
        out = run_dbt(ws, *BUILD, "--vars", compact_at)
        files = sorted(p.name for p in day.iterdir())
        if batch < 2:
            assert "merged 1" in out
            assert files == [f"data_{n}.parquet" for n in range(batch + 2)]
        else:
            # one file, under a name the partition never had (see the next test)
            assert "1 compacted" in out
            assert files == ["data_3.parquet"]
    assert partitions(ws) == {"event_date=2026-02-01": 9}
    merged = rows(ws)
    run_dbt(ws, *BUILD, "--full-refresh")
    assert rows(ws) == merged


def test_a_file_the_state_does_not_know_rebuilds_the_partition(workspace: Workspace) -> None:
    """A build stopped after publishing a file but before recording it — a merge's new rows,
    or a compaction's whole partition with the old files still there: the next build rebuilds
    the partition instead of keeping rows twice or appending them again."""
    ws = workspace
    land_late_records(ws, ["2026-02-01"], per_day=3, tag="base")
    run_dbt(ws, *BUILD)
    day = ws.lake / "cloudtrail_events/event_date=2026-02-01"
    state = ws.lake / "_state/dbt/cloudtrail_events.parquet"
    recorded = state.read_bytes()
    land_late_records(ws, ["2026-02-01"], per_day=5, tag="more")
    assert "merged 1" in run_dbt(ws, *BUILD)
    state.write_bytes(recorded)  # as if the build had stopped before recording
    assert "rebuilt 1, merged 0" in run_dbt(ws, *BUILD)
    assert sorted(p.name for p in day.iterdir()) == ["data_2.parquet"]
    assert partitions(ws) == {"event_date=2026-02-01": 8}

    # A compaction stopped between publishing the day's one file and removing the others,
    # with as many files as the state recorded: the names differ, so it is rebuilt.
    land_late_records(ws, ["2026-02-01"], per_day=2, tag="late")
    assert "merged 1" in run_dbt(ws, *BUILD)
    recorded = sorted(p.name for p in day.iterdir())
    assert recorded == ["data_2.parquet", "data_3.parquet"]
    everything = ws.root / "compacted.parquet"
    duckdb.sql(f"copy (select * from read_parquet('{day}/*.parquet')) to '{everything}'")
    everything.replace(day / "data_4.parquet")
    (day / "data_2.parquet").unlink()
    assert partitions(ws) == {"event_date=2026-02-01": 2 + 10}  # a row twice, for a moment
    assert "rebuilt 1, merged 0" in run_dbt(ws, *BUILD)
    assert partitions(ws) == {"event_date=2026-02-01": 10}


def test_a_partition_folder_that_is_not_a_day_stops_the_build(workspace: Workspace) -> None:
    """A folder name becomes part of paths and globs: `event_date=*` would make a merge read,
    and a rebuild replace, every partition."""
    ws = workspace
    land_late_records(ws, ["2026-02-01", "2026-02-02"], per_day=2, tag="days")
    run_dbt(ws, *BUILD)
    landed = next((ws.lake / "landing/cloudtrail/event_date=2026-02-01").glob("*.parquet"))
    planted = ws.lake / "landing/cloudtrail/event_date=*"
    planted.mkdir()
    (planted / "x.parquet").write_bytes(landed.read_bytes())
    out = run_dbt(ws, *BUILD, expect_pass=False)
    assert "not named event_date=YYYY-MM-DD" in out
    assert partitions(ws) == {"event_date=2026-02-01": 2, "event_date=2026-02-02": 2}


def test_older_input_that_changes_rebuilds_the_partition(workspace: Workspace) -> None:
    ws = workspace
    land_late_records(ws, ["2026-02-01"], per_day=3, tag="first")
    land_late_records(ws, ["2026-02-01"], per_day=2, tag="second")
    run_dbt(ws, *BUILD)
    assert partitions(ws) == {"event_date=2026-02-01": 5}
    # Forgetting an object removes its rows from the landing zone: a merge cannot express
    # that, so the partition is rebuilt from what is left.
    lake = Lake.at(str(ws.lake))
    con = connect(lake)
    compaction.forget(lake, con, str((ws.root / "first.json.gz").resolve()))
    con.close()
    assert "rebuilt 1, merged 0" in run_dbt(ws, *BUILD)
    assert partitions(ws) == {"event_date=2026-02-01": 2}


def test_a_logic_change_rebuilds_every_partition(workspace: Workspace) -> None:
    ws = workspace
    land_late_records(ws, ["2026-02-01", "2026-02-02"], per_day=2, tag="logic")
    run_dbt(ws, *BUILD)
    out = run_dbt(
        ws,
        "run",
        "-s",
        "stg_cloudtrail__events",
        "cloudtrail_events",
        "--vars",
        json.dumps({"unused_but_renders": 1}),
    )
    assert "rebuilt 0, merged 0, removed 0 of 2" in out  # vars that leave the SQL alone
    project = ws.project_copy()
    stg = project / "models/staging/cloudtrail/stg_cloudtrail__events.sql"
    stg.write_text(
        stg.read_text().replace("ct.userAgent as user_agent", "lower(ct.userAgent) as user_agent")
    )
    assert "cloudtrail_events: rebuilt 2, merged 0, removed 0 of 2" in run_dbt(ws, "run")

    # Editing an inventory seed re-enriches the lake too.
    accounts = project / "seeds/inventory_accounts.csv"
    accounts.write_text(accounts.read_text() + "111122223333,example,test,qa-team\n")
    out = run_dbt(ws, *BUILD)
    assert "cloudtrail_events: rebuilt 2, merged 0, removed 0 of 2" in out, out[-3000:]
    names = ws.read("select distinct account_name from cloudtrail_events")
    assert names == [("example",)]


def test_removed_landing_partitions_are_removed_from_the_lake(workspace: Workspace) -> None:
    ws = workspace
    land_late_records(ws, ["2026-02-01", "2026-02-02"], per_day=2, tag="gone")
    run_dbt(ws, *BUILD)
    for path in (ws.lake / "landing/cloudtrail/event_date=2026-02-02").iterdir():
        path.unlink()
    (ws.lake / "landing/cloudtrail/event_date=2026-02-02").rmdir()
    run_dbt(ws, *BUILD)
    assert partitions(ws) == {"event_date=2026-02-01": 2}


@pytest.mark.slow
def test_a_build_killed_mid_write_leaves_old_or_new_partitions_and_the_next_run_repairs(
    workspace: Workspace,
) -> None:
    ws = workspace
    run_ingest(ws, "demo", "--events", "40000", "--days", "6", "--end", "2026-01-10T00:00:00Z")
    run_dbt(ws, *BUILD)
    old = partitions(ws)
    days = [f"2026-01-{d:02d}" for d in range(4, 10)]
    land_late_records(ws, days, per_day=50, tag="new")
    new = {f"event_date={day}": old[f"event_date={day}"] + 50 for day in days}
    events = ws.lake / "cloudtrail_events"
    scratch = ws.lake / "_tmp"

    interrupted = []
    for moment in ("while writing a partition", "after publishing a partition"):
        stamps = {p: p.stat().st_mtime_ns for p in events.rglob("*.parquet")}
        build = subprocess.Popen(
            [DBT, "run", "-s", "cloudtrail_events"],
            cwd=ws.project,
            env=ws.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while build.poll() is None and time.monotonic() < deadline:
            if moment == "while writing a partition":
                hit = any(scratch.glob("cloudtrail_events-*.parquet"))
            else:
                hit = any(p.stat().st_mtime_ns != stamps.get(p) for p in events.rglob("*.parquet"))
            if hit:
                build.send_signal(signal.SIGKILL)
                interrupted.append(moment)
                break
            time.sleep(0.002)
        build.wait()

        counts = partitions(ws)  # every file readable: none is partial
        assert set(counts) == set(old)
        for partition, count in counts.items():
            assert count in (old[partition], new[partition]), (moment, partition, count)
        assert not [p for p in events.rglob("*") if p.is_file() and p.suffix != ".parquet"]

    assert interrupted == ["while writing a partition", "after publishing a partition"]
    run_dbt(ws, "run", "-s", "cloudtrail_events")
    assert partitions(ws) == new
