"""`ingest replay`: event-time order across partitions and datasets, pacing (fake clock),
HTTP delivery with retries and failures, and re-landing a range as live data."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ingest.cli import app
from ingest.delivery import DeliveryError, post
from ingest.replay import Pacer

from conftest import demo_and_web_lake, run_dbt


@pytest.fixture(scope="module")
def lake_ws(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return demo_and_web_lake(tmp_path_factory.mktemp("replay"), events=2000)


def replay(ws: dict, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["replay", *args], env=ws["env"], catch_exceptions=False)
    return result.exit_code, result.output


def _lake_count(ws: dict, dataset: str, where: str = "true") -> int:
    return (
        duckdb.connect()
        .execute(
            f"select count(*) from read_parquet('{ws['lake']}/{dataset}/*/*.parquet') where {where}"
        )
        .fetchone()[0]
    )


def test_cloudtrail_records_come_in_time_order_across_partitions(lake_ws: dict) -> None:
    code, text = replay(lake_ws)
    assert code == 0
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == _lake_count(lake_ws, "cloudtrail_events")
    times = [(r["eventTime"], r["eventID"]) for r in records]
    assert times == sorted(times)
    assert len({t[:10] for t, _ in times}) >= 3  # several partitions


def test_small_slices_give_the_same_stream(lake_ws: dict) -> None:
    """A day is read in time slices; slicing finely changes nothing in the output."""
    from ingest.duck import connect
    from ingest.lake import Lake
    from ingest.query import read_files
    from ingest.replay import day_files, stream

    lake = Lake.at(str(lake_ws["lake"]))
    con = connect(lake)
    days = day_files(con, lake, ["cloudtrail_events"], None, None)

    def relation_for(files: dict[str, list[str]]) -> str:
        return read_files(files["cloudtrail_events"])

    fine = [r["event_id"] for r in stream(con, days, relation_for, select="*", chunk_rows=7)]
    whole = [r["event_id"] for r in stream(con, days, relation_for, chunk_rows=10**9)]
    assert fine == whole and len(fine) == _lake_count(lake_ws, "cloudtrail_events")


def test_range_and_filter(lake_ws: dict) -> None:
    days = sorted(p.name.split("=")[1] for p in (lake_ws["lake"] / "cloudtrail_events").iterdir())
    code, text = replay(lake_ws, "--from", days[1], "--to", days[1], "--where", "read_only")
    records = [json.loads(line) for line in text.splitlines()]
    expected = _lake_count(lake_ws, "cloudtrail_events", f"event_date = '{days[1]}' and read_only")
    assert code == 0 and len(records) == expected > 0
    assert all(r["eventTime"].startswith(days[1]) and r["readOnly"] for r in records)


def test_event_shell_replay_merges_sources_in_order(lake_ws: dict) -> None:
    code, text = replay(lake_ws, "--dataset", "events")
    rows = [json.loads(line) for line in text.splitlines()]
    assert code == 0
    assert {r["source"] for r in rows} == {"cloudtrail", "http_access_log"}
    assert len(rows) == _lake_count(lake_ws, "cloudtrail_events") + 2000
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


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes]
    statuses: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.bodies.append(body)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    handler = type("Receiver", (_Receiver,), {"bodies": [], "statuses": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_port}/events"
    server.shutdown()


def test_http_target_gets_every_event_in_order_after_a_retry(lake_ws: dict, receiver) -> None:
    handler, url = receiver
    handler.statuses = [503]  # the first POST fails; the retry delivers it
    code, text = replay(lake_ws, "--url", url)
    assert code == 0, text
    lines = [json.loads(line) for body in handler.bodies for line in body.splitlines()]
    assert len(lines) == _lake_count(lake_ws, "cloudtrail_events")
    assert [r["eventTime"] for r in lines] == sorted(r["eventTime"] for r in lines)


def test_http_target_refusing_stops_the_replay(lake_ws: dict, receiver) -> None:
    handler, url = receiver
    handler.statuses = [400] * 10
    code, text = replay(lake_ws, "--url", url)
    assert code == 1 and "refused" in text


def test_post_gives_up_after_its_attempts() -> None:
    waits: list[float] = []
    with pytest.raises(DeliveryError, match="unreachable after 3 attempts"):
        post("http://127.0.0.1:9/nothing", b"{}", attempts=3, backoff=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]


def test_into_landing_replays_an_incident_as_live(lake_ws: dict, tmp_path: Path) -> None:
    before = _lake_count(lake_ws, "alerts", "detection_id = 'aws-cloudtrail-tampering'")
    code, text = replay(
        lake_ws, "--into-landing", "--shift-to-now", "--where", "event_name = 'StopLogging'"
    )
    assert code == 0 and "Re-landed" in text
    run_dbt(lake_ws, "build", "--select", "cloudtrail_events+", "--exclude",
            "resource_type:unit_test")  # fmt: skip
    replayed = (
        duckdb.connect()
        .execute(f"""
        select event_id, event_time, json_extract_string(raw, '$.trailhouseReplayOf')
        from read_parquet('{lake_ws["lake"]}/cloudtrail_events/*/*.parquet')
        where event_id like '%:replay:%'
    """)
        .fetchall()
    )
    assert replayed and all(original for _, _, original in replayed)
    assert all(datetime.now(UTC) - when < timedelta(minutes=10) for _, when, _ in replayed)
    after = _lake_count(lake_ws, "alerts", "detection_id = 'aws-cloudtrail-tampering'")
    assert after == before + 1
