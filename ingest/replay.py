"""`ingest replay`: stored events, in event-time order, at a chosen speed.

Events are read one partition (day) at a time, each sorted by DuckDB (which spills to disk when
a day is large) and fetched in batches, so memory does not grow with the range. Pacing keeps
the gaps between event times, divided by `speed` (0: no waiting); the clock is injectable so
tests measure pacing without sleeping.

`--into-landing` writes the range back into the landing zone as new records (new `eventID`s,
optionally moved so the first event is now), so detections see yesterday's incident as live.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ingest.console import err, out, shown
from ingest.delivery import DeliveryError, redacted
from ingest.lake import Lake
from ingest.landing import InputObject, Lander, fingerprint_file
from ingest.query import dataset_files, to_json
from ingest.timerange import TimeRange

BATCH = 5_000
CHUNK_ROWS = 20_000


@dataclass
class Pacer:
    """Waits so that events leave `speed` times faster than they happened."""

    speed: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _start: tuple[float, datetime] | None = field(default=None, init=False)

    def wait_for(self, event_time: datetime) -> None:
        if self.speed <= 0:
            return
        now = self.clock()
        if self._start is None:
            self._start = (now, event_time)
            return
        started, first = self._start
        due = started + (event_time - first).total_seconds() / self.speed
        if due > now:
            self.sleep(due - now)


def day_files(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    datasets: list[str],
    since: date | None,
    until: date | None,
) -> list[tuple[str, dict[str, list[str]]]]:
    """(day, {dataset: files}) for every day any of `datasets` has in range, in order."""
    low, high = (since or date.min).isoformat(), (until or date.max).isoformat()
    days: dict[str, dict[str, list[str]]] = {}
    for dataset, partitions in dataset_files(con, lake).items():
        if dataset in datasets:
            for value, files in partitions.items():
                if low <= value <= high:
                    days.setdefault(value, {})[dataset] = files
    return sorted(days.items())


def stream(
    con: duckdb.DuckDBPyConnection,
    days: list[tuple[str, dict[str, list[str]]]],
    relation_for: Callable[[dict[str, list[str]]], str],
    where: str | None = None,
    select: str = "*",
    chunk_rows: int = CHUNK_ROWS,
    span: TimeRange | None = None,
) -> Iterator[dict[str, Any]]:
    """Rows in event-time order, one day at a time: `relation_for(files of the day)` names
    what to read (a Parquet read, or a view re-pointed at that day's files). A day is cut into
    time slices of about `chunk_rows` rows, found from the event times alone, and each slice
    is read and sorted on its own, so no more than a slice of full rows is ever in memory (the
    lake files are sorted by time, so a slice reads only its own row groups)."""
    condition = f"({where})" if where else "true"
    if span is not None and not span.whole_days:
        condition += f" and {span.condition('event_time')}"
    for _day, files in days:
        relation = relation_for(files)
        for low, high in _slices(con, relation, condition, chunk_rows):
            result = con.execute(
                f"select {select} from {relation} where {condition} "
                "and event_time >= $low and ($high is null or event_time < $high) "
                "order by event_time, event_id",
                {"low": low, "high": high},
            )
            columns = [d[0] for d in result.description]
            while rows := result.fetchmany(BATCH):
                for row in rows:
                    yield dict(zip(columns, row, strict=True))


def _slices(
    con: duckdb.DuckDBPyConnection, relation: str, condition: str, chunk_rows: int
) -> list[tuple[Any, Any]]:
    """[low, high) time bounds holding about `chunk_rows` rows each (never splitting one
    timestamp); the last slice is open-ended."""
    bounds = [
        row[0]
        for row in con.execute(
            f"""
            select event_time from (
                select event_time, sum(rows) over (order by event_time) as running
                from (
                    select event_time, count(*) as rows
                    from {relation} where {condition}
                    group by 1
                )
            )
            qualify running // {chunk_rows} > coalesce(
                lag(running // {chunk_rows}) over (order by event_time), -1
            )
            order by 1
            """
        ).fetchall()
    ]
    return [(low, bounds[i + 1] if i + 1 < len(bounds) else None) for i, low in enumerate(bounds)]


def relabel(
    record: dict[str, Any], run_id: str, event_time: datetime, shift_seconds: float
) -> dict[str, Any]:
    """A copy of a CloudTrail record that lands as a new event: a new eventID (the original
    kept in `trailhouseReplayOf`) and, moved by `shift_seconds`, the time the lake parsed
    (`event_time`: the record's own text may be any shape DuckDB reads as a time)."""
    copy = dict(record)
    copy["trailhouseReplayOf"] = record.get("eventID")
    copy["eventID"] = f"{record.get('eventID')}:replay:{run_id}"
    if shift_seconds:
        moved = datetime.fromtimestamp(event_time.timestamp() + shift_seconds, UTC)
        copy["eventTime"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return copy


class Sink:
    """Where replayed events go: JSON lines to a stream, and/or POSTed in batches to a URL
    (`application/x-ndjson`). `flush` before every wait, so paced events leave on time."""

    def __init__(self, stream: Any | None, url: str | None, batch: int = 500) -> None:
        self.stream, self.url, self.batch = stream, url, batch
        self.pending: list[bytes] = []
        self.sent = 0

    def write(self, line: bytes) -> None:
        if self.stream is not None:
            self.stream.write(line + b"\n")
        if self.url:
            self.pending.append(line)
            if len(self.pending) >= self.batch:
                self.flush()
        self.sent += 1

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.flush()
        if self.url and self.pending:
            from ingest.delivery import post

            post(self.url, b"\n".join(self.pending) + b"\n", "application/x-ndjson")
            self.pending = []


def send(
    rows: Iterator[dict[str, Any]],
    dataset: str,
    speed: float,
    out_path: Path | None,
    url: str | None,
) -> bool:
    """Write `rows` as JSON lines (CloudTrail records as they were) to stdout, `out_path` or
    `url`, paced by `speed`; False when the endpoint stopped taking them."""
    stream = out_path.open("wb") if out_path else (None if url else sys.stdout.buffer)
    sink = Sink(stream, url)
    pacer = Pacer(speed, sleep=lambda seconds: (sink.flush(), time.sleep(seconds)))
    try:
        for row in rows:
            pacer.wait_for(row["event_time"])
            if dataset == "cloudtrail_events":
                sink.write(str(row["raw"]).encode())
            else:
                sink.write(to_json(row))
        sink.flush()
    except DeliveryError as exc:
        err.print(f"[red]replay stopped:[/] {shown(exc)} ({sink.sent:,} event(s) sent)")
        return False
    except BrokenPipeError:
        return True  # `ingest replay | head`
    finally:
        if out_path and stream:
            stream.close()
    if out_path or url:
        target = shown(str(out_path)) if out_path else redacted(url or "")
        err.print(f"Replayed {sink.sent:,} event(s) to {target}.")
    return True


def into_landing(
    lake: Lake, con: duckdb.DuckDBPyConnection, rows: Iterator[dict[str, Any]], shift_to_now: bool
) -> None:
    """Land `rows` (cloudtrail_events) again as new records: new eventIDs, and with
    `shift_to_now` times moved so the first event is now."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    scratch = lake.scratch / f"replay-{run_id}-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    shift = None
    try:
        for row in rows:
            record = orjson.loads(str(row["raw"]))
            if shift is None:
                shift = (
                    (datetime.now(UTC) - row["event_time"]).total_seconds() if shift_to_now else 0
                )
            copy = relabel(record, run_id, row["event_time"], shift)
            # the day of the (checked) event_time, never text taken from the record
            day = datetime.fromtimestamp(row["event_time"].timestamp() + shift, UTC).date()
            day = day.isoformat()
            if day not in files:
                files[day] = (scratch / f"{day}.jsonl").open("wb")
            files[day].write(orjson.dumps(copy) + b"\n")
        for handle in files.values():
            handle.close()
        objects = [
            InputObject(
                source_object=f"replay://{run_id}/{path.name}",
                path=path,
                fingerprint=fingerprint_file(path),
                size_bytes=path.stat().st_size,
            )
            for path in sorted(scratch.glob("*.jsonl"))
        ]
        if not objects:
            out.print("Nothing to replay in that range.")
            return
        summary = Lander(lake, con, "replay").land(objects)
        out.print(
            f"Re-landed {summary.records:,} record(s) as new events "
            f"(eventID suffix :replay:{run_id}"
            + (", times moved to now" if shift_to_now else "")
            + "). Next: [bold]dbt build[/]."
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
