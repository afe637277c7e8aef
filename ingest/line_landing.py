"""Land line-oriented logs (web access logs, custom formats) into `<lake>/landing/<dataset>/`.

Every line is kept (`raw`) with its parsed fields (`fields`, JSON), its `line_number` and the
file it came from. A line that does not parse is never dropped: it goes to
`_quarantine/<dataset>/<file>.rejected.jsonl` with its line number and the reason, and the rest
of the file lands. A file where no line parses is quarantined whole. Inputs already landed
(same path, same bytes) are skipped, so reruns are idempotent; files are written aside and
moved into place, like CloudTrail's landing.

`event_id` hashes the log stream (directory and file name without rotation suffixes such as
`.1`, `.2.gz`, `-20240101`), the line, and how many identical lines came before it in the file:
a file that grew, or was rotated and re-read, gives its old lines the same ids, so the dataset
(de-duplicated on `event_id`) holds each request once. Identical lines are counted among the
last RECENT_LINES distinct lines only (they share their timestamp, so they are close together).

Memory stays bounded whatever the file: lines are read one at a time up to MAX_LINE_BYTES (a
longer line is quarantined with its first KiB and its length, and skipped without being held),
rows go to Parquet every CHUNK_LINES lines or CHUNK_BYTES of text, whichever comes first, and
rejected lines are written to disk as they come.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb
import orjson
import pyarrow as pa

from ingest import state
from ingest.duck import sql_string
from ingest.lake import Lake
from ingest.landing import (
    InputObject,
    LandingSummary,
    batch_id_for,
    not_read,
    quarantine_name,
    recent_change,
    write_reason,
)
from ingest.sources.access_log import LineFormat

CHUNK_LINES = 20_000
CHUNK_BYTES = 16 << 20  # a chunk is written out at this much text too (long lines)
MAX_LINE_BYTES = 1 << 20
RECENT_LINES = 100_000
_KEPT_OF_A_LONG_LINE = 1024
_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("line_number", pa.int64()),
        ("raw", pa.string()),
        ("fields", pa.string()),
        ("log_format", pa.string()),
        ("source_object", pa.string()),
        ("collection", pa.string()),
    ]
)
_ROTATION = re.compile(r"(\.\d+)?(\.gz)?$|-\d{8}(\.gz)?$")

ProgressCallback = Callable[[int, int, int], None]


def log_stream(source_object: str) -> str:
    path = PurePosixPath(source_object)
    return f"{path.parent}/{_ROTATION.sub('', path.name, count=1)}"


class LineTooLong(ValueError):
    """A line over MAX_LINE_BYTES: its start and length, for the quarantine."""

    def __init__(self, start: bytes, length: int) -> None:
        super().__init__(
            f"line longer than {MAX_LINE_BYTES:,} bytes ({length:,} bytes; its first "
            f"{len(start):,} are kept)"
        )
        self.start = start.decode("utf-8", "backslashreplace")


def _lines(path: Path) -> Iterator[str | LineTooLong]:
    """The file's lines (gzip or plain), decoded; a line longer than MAX_LINE_BYTES is yielded
    as a LineTooLong holding its start and length, and never held in memory whole."""
    with path.open("rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if is_gzip else open
    with opener(path, "rb") as handle:
        while line := handle.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                start, length = line[:_KEPT_OF_A_LONG_LINE], len(line)
                while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    length += len(rest)
                length += len(rest)
                yield LineTooLong(start, length)
                continue
            yield line.decode("utf-8", "backslashreplace").rstrip("\r\n")


class _Rejected:
    """Rejected lines, written to a local file as they come (never a list in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.first: dict | None = None
        self._handle = None

    def add(self, number: int, reason: str, line: str) -> None:
        entry = {"line_number": number, "reason": reason, "line": line}
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("wb")
            self.first = entry
        self._handle.write(orjson.dumps(entry) + b"\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


class LineLander:
    """Lands files of one `LineFormat` into `landing/<dataset>/`."""

    def __init__(
        self,
        lake: Lake,
        con: duckdb.DuckDBPyConnection,
        dataset: str,
        collection: str | None = None,
    ) -> None:
        self.lake, self.con, self.dataset, self.collection = lake, con, dataset, collection
        lake.ensure()
        self.known = state.KnownInputs(lake, dataset, con)

    def land(
        self,
        objects: list[InputObject],
        line_format: LineFormat,
        progress: ProgressCallback | None = None,
    ) -> LandingSummary:
        summary = LandingSummary(inputs=len(objects))
        self.known.preload({state.delivery_day(o.source_object) for o in objects})
        for obj in objects:
            if obj.error:
                summary.failed.append((obj.source_object, obj.error))
                continue
            if (obj.source_object, obj.fingerprint) in self.known:
                summary.already_landed += 1
                continue
            self._land_file(obj, line_format, summary)
            if progress:
                progress(1, obj.size_bytes, summary.records)
        return summary

    def _land_file(
        self, obj: InputObject, line_format: LineFormat, summary: LandingSummary
    ) -> None:
        batch_id = batch_id_for([obj])
        stream = log_stream(obj.source_object)
        landed_at = datetime.now(UTC)
        aside = self.lake.scratch / f"landing-{self.dataset}-{batch_id}-{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        rejected = _Rejected(self.lake.scratch / f"rejected-{batch_id}-{os.getpid()}.jsonl")
        recent: OrderedDict[bytes, int] = OrderedDict()  # line digest → times seen
        good = lines = 0
        chunk: list[tuple] = []
        chunk_bytes = 0
        try:
            for number, line in enumerate(_lines(obj.path), 1):
                lines += 1
                if isinstance(line, LineTooLong):
                    rejected.add(number, str(line), line.start)
                    continue
                if not line.strip():
                    continue  # blank lines carry nothing (trailing newlines, padding)
                try:
                    event_time, fields = line_format.parse(line)
                except (ValueError, KeyError, OverflowError) as exc:
                    rejected.add(number, str(exc), line)
                    continue
                occurrence = _occurrence(recent, line)
                digest = hashlib.sha256(f"{stream}\n{occurrence}\n{line}".encode()).hexdigest()
                fields_json = orjson.dumps(fields).decode()
                row = (digest[:32], event_time, number, line, fields_json, line_format.name)
                chunk.append((*row, obj.source_object, self.collection))
                chunk_bytes += len(line) + len(fields_json)
                good += 1
                if len(chunk) >= CHUNK_LINES or chunk_bytes >= CHUNK_BYTES:
                    self._write_chunk(chunk, aside, batch_id, landed_at)
                    chunk, chunk_bytes = [], 0
            if chunk:
                self._write_chunk(chunk, aside, batch_id, landed_at)
        except (OSError, EOFError, zlib.error) as exc:
            rejected.close()
            shutil.rmtree(aside, ignore_errors=True)
            rejected.path.unlink(missing_ok=True)
            if _transient(exc, obj):
                summary.failed.append((obj.source_object, not_read(exc)))
                return
            self._quarantine(obj, f"unreadable: {exc}", None)
            self._record(batch_id, obj, state.QUARANTINED, f"unreadable: {exc}", 0, summary)
            return
        rejected.close()
        try:
            if good == 0 and rejected.count:
                shutil.rmtree(aside, ignore_errors=True)
                first = rejected.first or {}
                reason = (f"no line is in the {line_format.name} format "
                          f"(line {first.get('line_number')}: {first.get('reason')})")  # fmt: skip
                self._quarantine(obj, reason, rejected)
                self._record(batch_id, obj, state.QUARANTINED, reason, 0, summary)
                return
            for written in sorted(aside.glob("event_date=*/*.parquet")):
                partition = written.parent.name
                key = f"landing/{self.dataset}/{partition}/{written.name}"
                self.lake.put_file(written, key, move=True)
                summary.partitions.add(partition.removeprefix("event_date="))
            shutil.rmtree(aside, ignore_errors=True)
            reason = None
            if rejected.count:
                self._quarantine(obj, f"{rejected.count} of {lines} line(s) malformed", rejected)
                reason = f"{rejected.count} malformed line(s) quarantined"
                summary.rejected_records += rejected.count
                summary.quarantined.append((obj.source_object, reason))
            self._record(batch_id, obj, state.LANDED, reason, good, summary)
        finally:
            rejected.path.unlink(missing_ok=True)

    def _write_chunk(
        self, chunk: list[tuple], aside: Path, batch_id: str, landed_at: datetime
    ) -> None:
        table = pa.Table.from_pylist(
            [dict(zip(_SCHEMA.names, row, strict=True)) for row in chunk], schema=_SCHEMA
        )
        part = len(list(aside.glob("event_date=*/*.parquet"))) if aside.exists() else 0
        self.con.register("line_chunk", table)
        try:
            self.con.execute(
                f"""
                copy (
                    select
                        * exclude (event_time),
                        event_time,
                        cast(event_time as date) as event_date,
                        $landed_at::timestamptz as landed_at
                    from line_chunk
                ) to {sql_string(str(aside))} (
                    format parquet, compression zstd, partition_by (event_date),
                    filename_pattern {sql_string(f"{batch_id}_{part}_{{i}}")},
                    overwrite_or_ignore true
                )
                """,
                {"landed_at": landed_at},
            )
        finally:
            self.con.unregister("line_chunk")

    def _quarantine(self, obj: InputObject, reason: str, rejected: _Rejected | None) -> None:
        prefix = f"_quarantine/{self.dataset}/{quarantine_name(obj)}"
        if rejected is not None and rejected.count:
            self.lake.put_file(rejected.path, f"{prefix}.rejected.jsonl")
        count = rejected.count if rejected is not None else 0
        write_reason(self.lake, prefix, obj, reason, rejected_lines=count)

    def _record(
        self,
        batch_id: str,
        obj: InputObject,
        status: str,
        reason: str | None,
        records: int,
        summary: LandingSummary,
    ) -> None:
        if status == state.LANDED:
            summary.landed += 1
            summary.records += records
        else:
            summary.quarantined.append((obj.source_object, reason or ""))
        summary.bytes_read += obj.size_bytes
        row = state.InputRecord(
            source_object=obj.source_object,
            fingerprint=obj.fingerprint,
            size_bytes=obj.size_bytes,
            status=status,
            reason=reason,
            records=records,
            batch_id=batch_id,
            recorded_at=datetime.now(UTC),
        )
        self.known.record(batch_id, [row])


def _occurrence(recent: OrderedDict[bytes, int], line: str) -> int:
    """How many times this line was seen among the last RECENT_LINES distinct lines."""
    key = hashlib.blake2b(line.encode(), digest_size=16).digest()
    seen = recent.pop(key, 0)
    recent[key] = seen + 1
    if len(recent) > RECENT_LINES:
        recent.popitem(last=False)
    return seen


def _transient(exc: BaseException, obj: InputObject) -> bool:
    """A read that failed for a reason outside the file's bytes (permissions, a vanished file),
    or a compressed file cut short that is still being written: retried on the next run."""
    if isinstance(exc, (EOFError, gzip.BadGzipFile, zlib.error)):
        return obj.growing and recent_change(obj.path)
    return True
