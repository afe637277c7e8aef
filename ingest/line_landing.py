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

DuckDB parses (ingest.line_sql): the file is read in blocks of BLOCK_BYTES, cut into lines
without a Python object per line, and each DUCKDB_CHUNK_BYTES of them go through one statement
that writes every line DuckDB can parse exactly as Python would straight to Parquet, with the id
of a first occurrence.
The few lines it leaves (not plain ASCII, not matching, odd times, over-long) come back through
a scratch partition and are parsed in Python as before; then the ids of repeated lines get their
occurrence count. A file where that count could depend on RECENT_LINES (a line repeated after
that many other lines), and formats without an exact SQL form (JSON lines, some patterns), are
parsed line by line in Python, as they always were.

Memory stays bounded whatever the file: a line longer than MAX_LINE_BYTES is quarantined with its
first KiB and its length, and skipped without being held; DuckDB streams the blocks and spills;
Python-parsed rows go to Parquet every CHUNK_LINES lines or CHUNK_BYTES of text, whichever comes
first, and rejected lines are written to disk as they come.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shutil
import zlib
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from ingest import state
from ingest.duck import partition_flush_every, sql_string
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
from ingest.line_sql import select_lines
from ingest.sources.access_log import LineFormat

CHUNK_LINES = 20_000
CHUNK_BYTES = 16 << 20  # a chunk is written out at this much text too (long lines)
MAX_LINE_BYTES = 1 << 20
RECENT_LINES = 100_000
BLOCK_BYTES = 2 << 20  # read at a time for DuckDB: an Arrow batch, a unit of its parallelism
# Lines handed to one DuckDB statement: an Arrow table (a stream would be scanned by one
# thread); its size, with the rows a partition's writer holds, bounds the statement's memory.
DUCKDB_CHUNK_BYTES = 8 << 20
_KEPT_OF_A_LONG_LINE = 1024
_STREAM = pa.schema(
    [("line_number", pa.int64()), ("line", pa.binary()), ("long_length", pa.int64())]
)
# Where DuckDB writes the rows of a null event_date: the lines it left to Python.
_LEFT_TO_PYTHON = "event_date=__HIVE_DEFAULT_PARTITION__"
_READ_ERRORS = (OSError, EOFError, zlib.error)
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


def _open(path: Path) -> BinaryIO:
    with path.open("rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else path.open("rb")  # type: ignore[return-value]


def _decoded(line: bytes) -> str:
    return line.decode("utf-8", "backslashreplace").rstrip("\r\n")


def _lines(path: Path) -> Iterator[str | LineTooLong]:
    """The file's lines (gzip or plain), decoded; a line longer than MAX_LINE_BYTES is yielded
    as a LineTooLong holding its start and length, and never held in memory whole."""
    with _open(path) as handle:
        while line := handle.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                start, length = line[:_KEPT_OF_A_LONG_LINE], len(line)
                while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    length += len(rest)
                length += len(rest)
                yield LineTooLong(start, length)
                continue
            yield _decoded(line)


def _start(line: bytes) -> bytes:
    """What is kept of an over-long line: what `_lines` keeps of its first read."""
    return line[: min(_KEPT_OF_A_LONG_LINE, MAX_LINE_BYTES + 1)]


class _LineStream:
    """The file's lines as Arrow batches for DuckDB (line_number, line with its \\n,
    long_length), cut from blocks by numpy: no Python object per line. The same lines and
    numbers as `_lines`; an over-long line comes as its first KiB and its length. A read error
    ends the stream and is kept in `error` (DuckDB would only pass on its text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self.error: BaseException | None = None

    def chunks(self) -> Iterator[pa.Table]:
        """The batches gathered into tables of about DUCKDB_CHUNK_BYTES."""
        batches, size = [], 0
        for batch in self._batches():
            batches.append(batch)
            size += batch.nbytes
            if size >= DUCKDB_CHUNK_BYTES:
                yield pa.Table.from_batches(batches, _STREAM)
                batches, size = [], 0
        if batches:
            yield pa.Table.from_batches(batches, _STREAM)

    def _batches(self) -> Iterator[pa.RecordBatch]:
        try:
            with _open(self.path) as handle:
                yield from self._read(handle)
        except _READ_ERRORS as exc:
            self.error = exc

    def _read(self, handle: BinaryIO) -> Iterator[pa.RecordBatch]:
        carry = b""  # the start of a line whose end is not read yet
        while block := handle.read(BLOCK_BYTES):
            data = carry + block if carry else block
            end = data.rfind(b"\n") + 1
            if end:
                yield self._complete(data[:end])
            carry = data[end:]
            if len(carry) > MAX_LINE_BYTES:
                carry = yield from self._skip_long(handle, carry)
        while carry:  # what a long line's skipping read past, then a last line without \n
            end = carry.rfind(b"\n") + 1
            if end:
                yield self._complete(carry[:end])
                carry = carry[end:]
            elif len(carry) > MAX_LINE_BYTES:
                yield self._long(_start(carry), len(carry))
                carry = b""
            else:
                yield self._batch(pa.array([carry], pa.binary()), pa.nulls(1, pa.int64()))
                carry = b""

    def _skip_long(self, handle: BinaryIO, start: bytes) -> Generator[pa.RecordBatch, None, bytes]:
        """Read past the rest of an over-long line; returns the bytes after its end."""
        length = len(start)
        while block := handle.read(BLOCK_BYTES):
            end = block.find(b"\n")
            if end >= 0:
                yield self._long(_start(start), length + end + 1)
                return block[end + 1 :]
            length += len(block)
        yield self._long(_start(start), length)
        return b""

    def _complete(self, data: bytes) -> pa.RecordBatch:
        """Lines that all end in \\n: their offsets are the newlines' positions."""
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n")) + 1
        offsets = np.concatenate(([0], ends)).astype(np.int32)
        lengths = np.diff(offsets)
        if (lengths > MAX_LINE_BYTES + 1).any():
            return self._with_long_lines(data, offsets)
        lines = pa.Array.from_buffers(
            pa.binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        return self._batch(lines, pa.nulls(len(ends), pa.int64()))

    def _with_long_lines(self, data: bytes, offsets: np.ndarray) -> pa.RecordBatch:
        lines, lengths = [], []
        for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
            long = end - start - 1 > MAX_LINE_BYTES
            lines.append(_start(data[start:end]) if long else data[start:end])
            lengths.append(end - start if long else None)
        return self._batch(pa.array(lines, pa.binary()), pa.array(lengths, pa.int64()))

    def _long(self, start: bytes, length: int) -> pa.RecordBatch:
        return self._batch(pa.array([start], pa.binary()), pa.array([length], pa.int64()))

    def _batch(self, lines: pa.Array, long_length: pa.Array) -> pa.RecordBatch:
        numbers = np.arange(self.lines + 1, self.lines + 1 + len(lines), dtype=np.int64)
        self.lines += len(lines)
        return pa.RecordBatch.from_arrays([pa.array(numbers), lines, long_length], schema=_STREAM)


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


class _File:
    """One input being landed: where its rows and rejected lines are written meanwhile."""

    def __init__(
        self,
        *,
        obj: InputObject,
        batch_id: str,
        stream: str,
        landed_at: datetime,
        aside: Path,
        rejected: Path,
    ) -> None:
        self.obj, self.batch_id, self.stream = obj, batch_id, stream
        self.landed_at, self.aside = landed_at, aside
        self.rejected = _Rejected(rejected)

    def start(self) -> None:
        self.discard()
        self.rejected = _Rejected(self.rejected.path)

    def discard(self) -> None:
        self.rejected.close()
        shutil.rmtree(self.aside, ignore_errors=True)
        self.rejected.path.unlink(missing_ok=True)


class _PythonLines:
    """Lines parsed by `line_format.parse`, as they come: good rows to Parquet in chunks,
    rejected lines to the quarantine file. With `count_repeats`, a line's id counts the
    identical lines before it (`_occurrence`); without, it is a first occurrence's id."""

    def __init__(
        self, lander: LineLander, file: _File, line_format: LineFormat, *, count_repeats: bool
    ) -> None:
        self.lander, self.file, self.line_format = lander, file, line_format
        self.recent: OrderedDict[bytes, int] | None = OrderedDict() if count_repeats else None
        self.chunk: list[tuple] = []
        self.chunk_bytes = 0
        self.good = 0

    def take(self, number: int, line: str | LineTooLong) -> None:
        if isinstance(line, LineTooLong):
            self.file.rejected.add(number, str(line), line.start)
            return
        if not line.strip():
            return  # blank lines carry nothing (trailing newlines, padding)
        try:
            event_time, fields = self.line_format.parse(line)
        except (ValueError, KeyError, OverflowError) as exc:
            self.file.rejected.add(number, str(exc), line)
            return
        occurrence = _occurrence(self.recent, line) if self.recent is not None else 0
        digest = hashlib.sha256(f"{self.file.stream}\n{occurrence}\n{line}".encode()).hexdigest()
        fields_json = orjson.dumps(fields).decode()
        row = (digest[:32], event_time, number, line, fields_json, self.line_format.name)
        self.chunk.append((*row, self.file.obj.source_object, self.lander.collection))
        self.chunk_bytes += len(line) + len(fields_json)
        self.good += 1
        if len(self.chunk) >= CHUNK_LINES or self.chunk_bytes >= CHUNK_BYTES:
            self._flush()

    def close(self) -> None:
        self._flush()
        self.file.rejected.close()

    def _flush(self) -> None:
        if self.chunk:
            file = self.file
            self.lander._write_chunk(self.chunk, file.aside, file.batch_id, file.landed_at)
            self.chunk, self.chunk_bytes = [], 0


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
        file = _File(
            obj=obj,
            batch_id=batch_id,
            stream=log_stream(obj.source_object),
            landed_at=datetime.now(UTC),
            aside=self.lake.scratch / f"landing-{self.dataset}-{batch_id}-{os.getpid()}",
            rejected=self.lake.scratch / f"rejected-{batch_id}-{os.getpid()}.jsonl",
        )
        counts = None
        try:
            if line_format.sql is not None:
                counts = self._parse_in_duckdb(file, line_format)
            if counts is None:
                counts = self._parse_in_python(file, line_format)
        except _READ_ERRORS as exc:
            file.discard()
            if _transient(exc, obj):
                summary.failed.append((obj.source_object, not_read(exc)))
                return
            self._quarantine(obj, f"unreadable: {exc}", None)
            self._record(batch_id, obj, state.QUARANTINED, f"unreadable: {exc}", 0, summary)
            return
        try:
            self._finish(file, line_format, counts, summary)
        finally:
            file.rejected.path.unlink(missing_ok=True)

    def _parse_in_python(self, file: _File, line_format: LineFormat) -> tuple[int, int]:
        """Every line through `line_format.parse`: (good lines, lines)."""
        file.start()
        parsed = _PythonLines(self, file, line_format, count_repeats=True)
        lines = 0
        for number, line in enumerate(_lines(file.obj.path), 1):
            lines += 1
            parsed.take(number, line)
        parsed.close()
        return parsed.good, lines

    def _parse_in_duckdb(self, file: _File, line_format: LineFormat) -> tuple[int, int] | None:
        """One statement per chunk of lines writes what DuckDB parses; Python parses the lines
        it leaves; repeated lines then get their ids. None: the file needs Python's count of
        repeated lines (a line repeated after RECENT_LINES others)."""
        assert line_format.sql is not None
        file.start()
        lines = _LineStream(file.obj.path)
        for chunk in lines.chunks():
            self._copy_chunk(file, line_format, chunk)
        if lines.error is not None:
            raise lines.error
        self._parse_left_lines(file, line_format)
        good = self._number_repeats(file)
        if good is None:
            file.discard()
            return None
        return good, lines.lines

    def _copy_chunk(self, file: _File, line_format: LineFormat, chunk: pa.Table) -> None:
        assert line_format.sql is not None
        part = len(list(file.aside.glob("event_date=*/*.parquet"))) if file.aside.exists() else 0
        self.con.register("line_stream", chunk)
        try:
            with partition_flush_every(self.con, CHUNK_LINES):
                self.con.execute(
                    f"""
                    copy ({select_lines(line_format.sql)}) to {sql_string(str(file.aside))} (
                        format parquet, compression zstd, partition_by (event_date),
                        filename_pattern {sql_string(f"{file.batch_id}_{part}_{{i}}")},
                        overwrite_or_ignore true, row_group_size {CHUNK_LINES}
                    )
                    """,
                    {
                        "stream": file.stream,
                        "log_format": line_format.name,
                        "source_object": file.obj.source_object,
                        "collection": self.collection,
                        "landed_at": file.landed_at,
                    },
                )
        finally:
            self.con.unregister("line_stream")

    def _parse_left_lines(self, file: _File, line_format: LineFormat) -> None:
        """The lines DuckDB left, in order, through Python's parse (rows get the id of a
        first occurrence, like DuckDB's; _number_repeats counts them all)."""
        left = file.aside / _LEFT_TO_PYTHON
        if not left.exists():
            return
        parsed = _PythonLines(self, file, line_format, count_repeats=False)
        reader = self.con.cursor()  # its own connection: chunks are written meanwhile
        try:
            result = reader.execute(
                "select line_number, raw, fields from read_parquet("
                f"{sql_string(str(left / '*.parquet'))}) order by line_number"
            )
            for batch in result.to_arrow_reader(CHUNK_LINES):
                for number, raw, long_length in zip(*batch.to_pydict().values(), strict=True):
                    line = base64.b64decode(raw)
                    if long_length is not None:
                        parsed.take(number, LineTooLong(line, int(long_length)))
                    else:
                        parsed.take(number, _decoded(line))
        finally:
            reader.close()
        parsed.close()
        shutil.rmtree(left)

    def _number_repeats(self, file: _File) -> int | None:
        """Give the second and later copies of a line their occurrence in the id, as
        `_occurrence` does; returns the rows, or None when a copy comes RECENT_LINES or more
        lines after the one before (then Python's bounded memory of lines decides)."""
        written = sorted(file.aside.glob("event_date=*/*.parquet"))
        if not written:
            return 0
        files = "[" + ", ".join(sql_string(str(p)) for p in written) + "]"
        self.con.execute(
            f"""
            create or replace temp table line_repeats as
            with ids as (select event_id, line_number from read_parquet({files})),
            repeated as (
                select event_id from ids group by event_id having count(*) > 1
            )
            select
                line_number,
                row_number() over (partition by event_id order by line_number) - 1
                    as occurrence,
                line_number - lag(line_number) over (
                    partition by event_id order by line_number) - 1 as gap
            from ids semi join repeated using (event_id)
            """
        )
        try:
            rows, far, repeats = self.con.execute(
                f"""
                select (select count(*) from read_parquet({files})),
                    coalesce(max(gap) >= {RECENT_LINES}, false), count(*)
                from line_repeats
                """
            ).fetchone()
            if far:
                return None
            if repeats:
                for path in written:
                    self._renumber(path, file.stream)
            return rows
        finally:
            self.con.execute("drop table if exists line_repeats")

    def _renumber(self, path: Path, stream: str) -> None:
        """Rewrite one written file with the ids of its repeated lines."""
        target = sql_string(str(path))
        (hits,) = self.con.execute(
            f"select count(*) from read_parquet({target}, hive_partitioning = false) "
            "where line_number in (select line_number from line_repeats where occurrence > 0)"
        ).fetchone()
        if not hits:
            return
        fixed = path.with_name(path.name + ".renumbered")
        self.con.execute(
            f"""
            copy (
                select f.* replace (case when r.line_number is null then f.event_id else
                    left(sha256(concat($stream, e'\\n', r.occurrence, e'\\n', f.raw)), 32)
                    end as event_id)
                from read_parquet({target}, hive_partitioning = false) as f
                left join line_repeats as r on r.line_number = f.line_number and r.occurrence > 0
            ) to {sql_string(str(fixed))} (format parquet, compression zstd)
            """,
            {"stream": stream},
        )
        os.replace(fixed, path)

    def _finish(
        self,
        file: _File,
        line_format: LineFormat,
        counts: tuple[int, int],
        summary: LandingSummary,
    ) -> None:
        """Quarantine a file with no good line; otherwise move its rows into the lake and
        quarantine its rejected lines."""
        good, lines = counts
        obj, rejected, aside = file.obj, file.rejected, file.aside
        if good == 0 and rejected.count:
            shutil.rmtree(aside, ignore_errors=True)
            first = rejected.first or {}
            reason = (f"no line is in the {line_format.name} format "
                      f"(line {first.get('line_number')}: {first.get('reason')})")  # fmt: skip
            self._quarantine(obj, reason, rejected)
            self._record(file.batch_id, obj, state.QUARANTINED, reason, 0, summary)
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
        self._record(file.batch_id, obj, state.LANDED, reason, good, summary)

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
