"""`ingest replay`: event-time order across partitions and datasets, pacing (fake clock),
HTTP delivery with retries and failures, and re-landing a range as live data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.delivery import DeliveryError, post
from ingest.replay import Pacer

from conftest import BUILD, Received, Workspace, invoke, run_dbt


def replay(ws: Workspace, *args: str) -> tuple[int, str]:
    result = invoke(ws, "replay", *args, expect=None)
    return result.exit_code, result.output


def _lake_count(ws: Workspace, dataset: str, where: str = "true") -> int:
    return ws.read(f"select count(*) from {dataset} where {where}")[0][0]


def test_cloudtrail_records_come_in_time_order_across_partitions(demo_lake: Workspace) -> None:
    code, text = replay(demo_lake)
    assert code == 0
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == _lake_count(demo_lake, "cloudtrail_events")
    times = [(r["eventTime"], r["eventID"]) for r in records]
    assert times == sorted(times)
    assert len({t[:10] for t, _ in times}) >= 3  # several partitions


def test_small_slices_give_the_same_stream(demo_lake: Workspace) -> None:
    """A day is read in time slices; slicing finely changes nothing in the output."""
    from ingest.duck import connect
    from ingest.lake import Lake
    from ingest.query import read_files
    from ingest.replay import day_files, stream

    lake = Lake.at(str(demo_lake.lake))
    con = connect(lake)
    days = day_files(con, lake, ["cloudtrail_events"], None, None)

    def relation_for(files: dict[str, list[str]]) -> str:
        return read_files(files["cloudtrail_events"])

    fine = [r["event_id"] for r in stream(con, days, relation_for, select="*", chunk_rows=7)]
    whole = [r["event_id"] for r in stream(con, days, relation_for, chunk_rows=10**9)]
    assert fine == whole and len(fine) == _lake_count(demo_lake, "cloudtrail_events")


def test_range_and_filter(demo_lake: Workspace) -> None:
    days = sorted(p.name.split("=")[1] for p in (demo_lake.lake / "cloudtrail_events").iterdir())
    code, text = replay(demo_lake, "--from", days[1], "--to", days[1], "--where", "read_only")
    records = [json.loads(line) for line in text.splitlines()]
    expected = _lake_count(
        demo_lake, "cloudtrail_events", f"event_date = '{days[1]}' and read_only"
    )
    assert code == 0 and len(records) == expected > 0
    assert all(r["eventTime"].startswith(days[1]) and r["readOnly"] for r in records)


def test_event_shell_replay_merges_sources_in_order(demo_lake: Workspace) -> None:
    code, text = replay(demo_lake, "--dataset", "events")
    rows = [json.loads(line) for line in text.splitlines()]
    assert code == 0
    assert {r["source"] for r in rows} == {"cloudtrail", "http_access_log"}
    assert len(rows) == _lake_count(demo_lake, "cloudtrail_events") + 2000
    keys = [(r["event_time"], r["event_id"]) for r in rows]
    assert keys == sorted(keys)


def test_pacing_keeps_the_gaps_divided_by_speed() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(speed=10, clock=lambda: now[0], sleep=sleep)
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    for offset in (0, 10, 10, 30, 100):
        pacer.wait_for(start + timedelta(seconds=offset))
        now[0] += 0.2  # the time spent sending each event counts against the wait
    assert waits == [0.8, 1.6, 6.8]  # due at 101, 103, 110 on the fake clock
    fast = Pacer(speed=0, clock=lambda: now[0], sleep=sleep)
    fast.wait_for(start)
    fast.wait_for(start + timedelta(hours=1))
    assert len(waits) == 3


def test_http_target_gets_every_event_in_order_after_a_retry(
    demo_lake: Workspace, receiver: Received
) -> None:
    receiver.statuses = [503]  # the first POST fails; the retry delivers it
    code, text = replay(demo_lake, "--url", receiver.url)
    assert code == 0, text
    assert receiver.refused == 1
    lines = [json.loads(line) for body in receiver.bodies for line in body.splitlines()]
    assert len(lines) == _lake_count(demo_lake, "cloudtrail_events")
    assert [r["eventTime"] for r in lines] == sorted(r["eventTime"] for r in lines)


def test_http_target_refusing_stops_the_replay(demo_lake: Workspace, receiver: Received) -> None:
    receiver.statuses = [400] * 10
    code, text = replay(demo_lake, "--url", receiver.url)
    assert code == 1 and "refused" in text


def test_post_gives_up_after_its_attempts() -> None:
    waits: list[float] = []
    with pytest.raises(DeliveryError, match="unreachable after 3 attempts"):
        post("http://127.0.0.1:9/nothing", b"{}", attempts=3, backoff=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]


def test_into_landing_replays_an_incident_as_live(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    before = _lake_count(ws, "alerts", "detection_id = 'aws-cloudtrail-tampering'")
    code, text = replay(
        ws, "--into-landing", "--shift-to-now", "--where", "event_name = 'StopLogging'"
    )
    assert code == 0 and "Re-landed" in text
    run_dbt(ws, *BUILD, "--select", "cloudtrail_events+")
    replayed = ws.read("""
        select event_id, event_time, json_extract_string(raw, '$.trailhouseReplayOf')
        from cloudtrail_events
        where event_id like '%:replay:%'
    """)
    assert replayed and all(original for _, _, original in replayed)
    assert all(datetime.now(UTC) - when < timedelta(minutes=10) for _, when, _ in replayed)
    after = _lake_count(ws, "alerts", "detection_id = 'aws-cloudtrail-tampering'")
    assert after == before + 1


def test_an_incident_hour_is_replayed_exactly(demo_lake: Workspace) -> None:
    days = sorted(p.name.split("=")[1] for p in (demo_lake.lake / "cloudtrail_events").iterdir())
    start, end = f"{days[1]}T10:00Z", f"{days[1]}T11:00Z"
    code, text = replay(demo_lake, "--from", start, "--to", end)
    records = [json.loads(line) for line in text.splitlines()]
    expected = _lake_count(
        demo_lake, "cloudtrail_events",
        f"event_time >= '{days[1]} 10:00:00Z'::timestamptz "
        f"and event_time < '{days[1]} 11:00:00Z'::timestamptz",
    )  # fmt: skip
    assert code == 0 and len(records) == expected > 0
    assert all(r["eventTime"].startswith(f"{days[1]}T10:") for r in records)
