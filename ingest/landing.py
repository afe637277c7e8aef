"""Land raw CloudTrail into the lake's landing zone as event_date-partitioned Parquet.

Every record is kept complete (the `raw` JSON column) next to the few fields landing needs
(`event_id`, `event_time`, `event_date`) and where it came from (`source_object`). DuckDB does the
parsing, in batches of files; a batch that fails is retried file by file so one bad input is
quarantined with its reason while the rest lands. Within a file, the record is the unit: records
that are not CloudTrail (no eventID, eventSource, eventName or valid eventTime) go to
`_quarantine/cloudtrail/<file>.rejected.jsonl` with their position and reason, and the file's
other records land; only a file with no valid record at all is quarantined whole. A read that
fails for a reason outside the file's bytes (permissions, a vanished or stale file, a file still
being written) is reported and retried on the next run, never recorded as known.
Files are written aside and renamed into place, and batch ids are derived from the inputs, so a
rerun or a crash never duplicates or half-writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb
import orjson
import pyarrow as pa

from ingest import state
from ingest.duck import enable_s3, partition_flush_every, sql_list, sql_string
from ingest.lake import Lake

SOURCE = "cloudtrail"
LANDING_PREFIX = f"landing/{SOURCE}"
QUARANTINE_PREFIX = f"_quarantine/{SOURCE}"
# Largest single JSON document (a whole `{"Records": [...]}` file) DuckDB will parse. CloudTrail
# files are a few MB; DuckDB reserves buffers of twice this size per thread, so it stays modest.
MAX_OBJECT_BYTES = 128 << 20
# Errors reading one input: its bytes are bad (quarantined), or reading it failed for now
# (retried next run). Anything else (memory, a full disk) aborts the run unrecorded.
_READ_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException)
_BAD_IO = re.compile(r"gzip|compress|zstd|malformed|unexpected end|truncated", re.IGNORECASE)
_TRUNCATED = re.compile(r"unexpected end|truncated", re.IGNORECASE)
_FATAL_IO = re.compile(r"no space left|disk quota|read-only file system", re.IGNORECASE)
# A local file changed this recently may still be being written: a truncated stream is retried.
STILL_WRITING_SECONDS = 300

BAD, TRANSIENT = "bad", "transient"


def read_failure(
    exc: duckdb.Error, obj: InputObject | None = None, paths: Iterable[str] = ()
) -> str:
    """Whether a failed read of one input means bad bytes (BAD) or a failure of the moment
    (TRANSIENT); raises what concerns the whole run. Judged on the message without the
    `paths` read: a file named `no space left.json` is not a full disk."""
    text = str(exc)
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, "<input>")
    io_error = isinstance(exc, duckdb.IOException)
    if io_error and _FATAL_IO.search(text):
        raise exc
    if _TRUNCATED.search(text) and obj is not None and obj.growing and recent_change(obj.path):
        return TRANSIENT  # a local file cut short that is still changing: being written
    if not io_error or _BAD_IO.search(text):
        return BAD
    return TRANSIENT  # permission denied, vanished, stale NFS handle, I/O error


def not_read(reason: object) -> str:
    """How an input that could not be read this time is reported (it is retried, not
    recorded)."""
    return f"not read (retried on the next run): {reason}"


def recent_change(path: Path) -> bool:
    """Whether a file changed in the last STILL_WRITING_SECONDS (or vanished meanwhile)."""
    try:
        return time.time() - path.stat().st_mtime < STILL_WRITING_SECONDS
    except OSError:
        return True  # gone since it was listed: also worth another look next run


_INPUTS_SCHEMA = pa.schema(
    [("path", pa.string()), ("source_object", pa.string()), ("is_good", pa.bool_())]
)

BATCH_MAX_FILES = 2000
# Compressed bytes per batch: CloudTrail JSON is ~10x larger in memory, and a batch's records
# are held whole while they are split by day (64 MiB ran out of a 1.5 GB memory limit).
BATCH_MAX_BYTES = 32 << 20
WRITE_FLUSH_ROWS = 65_536

# One statement turns every supported input shape into one row per CloudTrail record:
# S3 delivery files ({"Records": [...]}), `aws cloudtrail lookup-events` output (records as JSON
# strings in Events[].CloudTrailEvent), a JSON array of records, or JSON lines of records.
# A document of no known shape is kept whole as one record marked foreign, to be quarantined.
_NOT_A_RECORD = "not a CloudTrail record (no Records, Events[].CloudTrailEvent or eventID)"

_EXTRACT = f"""
insert into batch_records
select
    filename,
    document,
    position,
    record,
    head,
    case
        when is_foreign then '{_NOT_A_RECORD}'
        when nullif(head.eventID, '') is null then 'no eventID'
        when head.eventSource is null then 'no eventSource'
        when head.eventName is null then 'no eventName'
        when try_cast(head.eventTime as timestamptz) is null then 'no valid eventTime'
    end as problem
from (
    select
        filename,
        document,
        position,
        record,
        is_foreign,
        -- one parse of the few fields landing needs, instead of a json_extract per field
        from_json(
            record,
            '{{{{"eventID": "VARCHAR", "eventTime": "VARCHAR",
              "eventSource": "VARCHAR", "eventName": "VARCHAR"}}}}'
        ) as head
    from (
        select
            filename,
            document,
            unnest(records) as record,
            generate_subscripts(records, 1) as position,
            shape is null as is_foreign
        from (
            select
                filename,
                -- the document's number in its file (a line of JSON lines; 1 for one document)
                ordinality - min(ordinality) over (partition by filename) + 1 as document,
                shape,
                -- a document of no known shape is kept whole, to be quarantined as foreign
                coalesce(shape, [json]) as records
            from (
                select
                    filename,
                    ordinality,
                    json,
                    case
                        when json_type(json, '$.Records') = 'ARRAY'
                            then json_extract(json, '$.Records[*]')
                        -- an entry whose CloudTrailEvent is missing or not JSON is kept whole,
                        -- to be quarantined with its evidence
                        when json_type(json, '$.Events') = 'ARRAY'
                            then list_transform(
                                json_extract(json, '$.Events[*]'),
                                e -> coalesce(
                                    try_cast(json_extract_string(e, '$.CloudTrailEvent') as json),
                                    e
                                )
                            )
                        when json_type(json) = 'ARRAY'
                            then json_extract(json, '$[*]')
                        when json_exists(json, '$.eventID')
                            then [json]
                    end as shape
                from read_json_objects(
                    {{files}}, format = 'auto', filename = true,
                    maximum_object_size = {MAX_OBJECT_BYTES}
                ) with ordinality
            )
        )
    )
)
"""

_BATCH_RECORDS = """
create or replace temp table batch_records (
    filename varchar,
    document bigint,
    position bigint,
    record json,
    head struct(eventID varchar, eventTime varchar, eventSource varchar, eventName varchar),
    problem varchar
)
"""

_VALIDATE = """
select
    filename,
    count(*) filter (where problem is null) as records,
    count(*) filter (where problem is not null) as rejected,
    count(*) filter (where problem = $foreign) as foreign_documents,
    count(*) as total,
    max(document) > 1 as several_documents,
    arg_min([document, position], [document, position])
        filter (where problem is not null) as first_place,
    arg_min(problem, [document, position]) filter (where problem is not null) as first_problem
from batch_records
group by filename
"""

_REJECTED = """
copy (
    select document, position, problem as reason, record
    from batch_records
    where filename = {filename} and problem is not null
    order by document, position
) to {target} (format json)
"""

_WRITE = """
copy (
    select
        r.head.eventID as event_id,
        -- try_cast: rows of bad inputs may be evaluated before the join drops them
        try_cast(r.head.eventTime as timestamptz) as event_time,
        cast(event_time as date) as event_date,
        r.record as raw,
        i.source_object,
        $landed_at::timestamptz as landed_at,
        $collection::varchar as collection
    from batch_records as r
    inner join batch_inputs as i on r.filename = i.path
    where i.is_good and r.problem is null
) to {target} (
    format parquet,
    compression zstd,
    partition_by (event_date),
    filename_pattern {pattern},
    overwrite_or_ignore true
)
"""


@dataclass(frozen=True)
class InputObject:
    """One raw input: where its bytes are now, and the identity recorded with its records."""

    source_object: str
    path: Path
    fingerprint: str
    size_bytes: int
    skip_reason: str | None = None
    # why the input could not be read this time (retried on the next run, never recorded)
    error: str | None = None
    # a local file another program may still be appending to (an S3 object never is)
    growing: bool = False


@dataclass
class LandingSummary:
    inputs: int = 0
    already_landed: int = 0
    landed: int = 0
    records: int = 0
    bytes_read: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    partitions: set[str] = field(default_factory=set)
    rejected_records: int = 0  # records or lines quarantined from files that landed
    failed: list[tuple[str, str]] = field(default_factory=list)  # retried on the next run


ProgressCallback = Callable[[int, int, int], None]  # files, bytes, records


def fingerprint_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def batch_id_for(objects: Iterable[InputObject]) -> str:
    digest = hashlib.sha256()
    for line in sorted(f"{o.source_object}\0{o.fingerprint}" for o in objects):
        digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()[:20]


def _batches(objects: Sequence[InputObject]) -> Iterator[list[InputObject]]:
    batch: list[InputObject] = []
    size = 0
    for obj in objects:
        if batch and (len(batch) >= BATCH_MAX_FILES or size + obj.size_bytes > BATCH_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(obj)
        size += obj.size_bytes
    if batch:
        yield batch


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, limit: int = 100) -> str:
    """A file name that is only ever a name: no separators, no dot-dot, bounded length."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "input"
    return cleaned[-limit:]


def quarantine_name(obj: InputObject) -> str:
    """The file name an input is quarantined under; the fingerprint prefix keeps two bad
    inputs with the same name apart."""
    return f"{obj.fingerprint[:12]}__{safe_name(PurePosixPath(obj.source_object).name)}"


def _clean_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^[A-Za-z ]+Error: ", "", text)


class Lander:
    """Lands batches of CloudTrail inputs into `<lake>/landing/cloudtrail/`."""

    def __init__(
        self, lake: Lake, con: duckdb.DuckDBPyConnection, collection: str | None = None
    ) -> None:
        self.lake = lake
        self.con = con
        # the collection (config name, or how the data came: demo, load, s3://...) each row
        # records, so the lake can tell its sources apart
        self.collection = collection
        lake.ensure()
        self.known = state.KnownInputs(lake, SOURCE, con)

    def land(
        self,
        objects: Iterable[InputObject],
        progress: ProgressCallback | None = None,
        summary: LandingSummary | None = None,
    ) -> LandingSummary:
        """Land inputs; pass `summary` to accumulate several calls into one report."""
        summary = summary if summary is not None else LandingSummary()
        unique: dict[str, InputObject] = {}
        for obj in objects:
            unique.setdefault(obj.source_object, obj)
        summary.inputs += len(unique)

        pending: list[InputObject] = []
        skipped: list[InputObject] = []
        for obj in unique.values():
            if obj.error:
                summary.failed.append((obj.source_object, obj.error))
            elif (obj.source_object, obj.fingerprint) in self.known:
                summary.already_landed += 1
            elif obj.skip_reason:
                skipped.append(obj)
            else:
                pending.append(obj)

        if skipped:
            self._record(batch_id_for(skipped), skipped, {}, {}, {}, summary)
        for batch in _batches(pending):
            self._land_batch(batch, summary)
            if progress:
                progress(len(batch), sum(o.size_bytes for o in batch), summary.records)
        return summary

    def set_aside(self, obj: InputObject, reason: str, summary: LandingSummary) -> None:
        """Quarantine the reason an input could not be read (its bytes are not here) without
        recording it as known: a later run that can read it lands it."""
        self._quarantine(obj, reason)
        summary.quarantined.append((obj.source_object, reason))

    # -- one batch -------------------------------------------------------------------------

    def _land_batch(self, batch: list[InputObject], summary: LandingSummary) -> None:
        if self.lake.is_s3:
            enable_s3(self.con)  # fresh credentials for runs that outlive a session token
        batch_id = batch_id_for(batch)
        problems = {o.source_object: "empty file" for o in batch if o.size_bytes == 0}
        transient: dict[str, str] = {}
        aliases = self.lake.scratch / f"aliases-{batch_id}-{os.getpid()}"
        try:
            # the path DuckDB reads → the input
            readable = {
                _plain_path(o.path, aliases, n): o for n, o in enumerate(batch) if o.size_bytes > 0
            }
            self._extract(readable, problems, transient)
            counts, rejected, notes = self._validate(readable, problems)
            # An Arrow table, not executemany: DuckDB inserts those row by row.
            inputs = pa.table(
                {
                    "path": list(readable),
                    "source_object": [o.source_object for o in readable.values()],
                    "is_good": [o.source_object in counts for o in readable.values()],
                },
                schema=_INPUTS_SCHEMA,
            )
            self.con.register("batch_inputs", inputs)
            if counts:
                self._write(batch_id, summary)
            for path, (count, reason) in rejected.items():
                self._quarantine_records(readable[path], path, reason, aliases)
                summary.rejected_records += count
            for obj in batch:
                if obj.source_object in problems:
                    self._quarantine(obj, problems[obj.source_object])
            summary.failed += list(transient.items())
            recorded = [o for o in batch if o.source_object not in transient]
            self._record(batch_id, recorded, counts, problems, notes, summary)
            summary.bytes_read += sum(o.size_bytes for o in recorded)
        finally:
            self.con.execute("drop table if exists batch_records")
            with contextlib.suppress(duckdb.Error):
                self.con.unregister("batch_inputs")
            shutil.rmtree(aliases, ignore_errors=True)

    def _extract(
        self, readable: dict[str, InputObject], problems: dict[str, str], transient: dict[str, str]
    ) -> None:
        """Every record of the readable inputs into `batch_records`: the batch in one statement,
        or, when it fails, file by file so that only the failing inputs are set aside."""
        self.con.execute(_BATCH_RECORDS)
        if not readable:
            return
        try:
            self.con.execute(_EXTRACT.format(files=sql_list(readable)))
            return
        except _READ_ERRORS as exc:
            read_failure(exc, paths=readable)  # raises what concerns the whole run
        self.con.execute("delete from batch_records")
        for path, obj in readable.items():
            try:
                self.con.execute(_EXTRACT.format(files=sql_list([path])))
            except _READ_ERRORS as exc:
                if read_failure(exc, obj, [path]) == BAD:
                    problems[obj.source_object] = f"unreadable: {_clean_error(exc)}"
                else:
                    transient[obj.source_object] = not_read(_clean_error(exc))

    def _validate(
        self, readable: dict[str, InputObject], problems: dict[str, str]
    ) -> tuple[dict[str, int], dict[str, tuple[int, str]], dict[str, str]]:
        """Valid records per input (inputs with none go to `problems`), and, for inputs that
        land with some records set aside, why (by path) and the note for the state."""
        counts: dict[str, int] = {}
        rejected: dict[str, tuple[int, str]] = {}
        notes: dict[str, str] = {}
        rows = self.con.execute(_VALIDATE, {"foreign": _NOT_A_RECORD}).fetchall()
        for filename, records, bad, foreign, total, several, place, problem in rows:
            obj = readable[filename]
            document = f"document {place[0]}, " if several and place else ""
            first = f"{document}record {place[1]}: {problem}" if place else ""
            if records == 0 and foreign == total:
                problems[obj.source_object] = (
                    f"not CloudTrail-shaped: {foreign} JSON document(s) without "
                    "Records, Events[].CloudTrailEvent or eventID"
                )
            elif records == 0:
                problems[obj.source_object] = (
                    f"not CloudTrail-shaped: {bad} of {total} record(s) lack eventID, "
                    f"eventSource, eventName or a valid eventTime ({first})"
                )
            else:
                counts[obj.source_object] = records
                if bad:
                    rejected[filename] = (
                        bad,
                        f"{bad} of {total} record(s) are not CloudTrail ({first})",
                    )
                    notes[obj.source_object] = f"{bad} record(s) quarantined ({first})"
        return counts, rejected, notes

    def _quarantine_records(self, obj: InputObject, path: str, reason: str, aside: Path) -> None:
        """The records of a landed input that are not CloudTrail, with their positions."""
        prefix = f"{QUARANTINE_PREFIX}/{quarantine_name(obj)}"
        aside.mkdir(parents=True, exist_ok=True)
        local = aside / f"{quarantine_name(obj)}.rejected.jsonl"
        self.con.execute(_REJECTED.format(filename=sql_string(path), target=sql_string(str(local))))
        self.lake.put_file(local, f"{prefix}.rejected.jsonl", move=True)
        write_reason(self.lake, prefix, obj, reason)

    def _write(self, batch_id: str, summary: LandingSummary) -> None:
        aside = self.lake.scratch / f"landing-{SOURCE}-{batch_id}-{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        sql = _WRITE.format(target=sql_string(str(aside)), pattern=sql_string(f"{batch_id}_{{i}}"))
        with partition_flush_every(self.con, WRITE_FLUSH_ROWS):
            self.con.execute(sql, {"landed_at": datetime.now(UTC), "collection": self.collection})
        # Each file appears whole (a rename on a local lake, one PUT on S3), never half-written.
        for written in sorted(aside.glob("event_date=*/*.parquet")):
            partition = written.parent.name
            self.lake.put_file(written, f"{LANDING_PREFIX}/{partition}/{written.name}", move=True)
            summary.partitions.add(partition.removeprefix("event_date="))
        shutil.rmtree(aside, ignore_errors=True)

    def _quarantine(self, obj: InputObject, reason: str) -> None:
        prefix = f"{QUARANTINE_PREFIX}/{quarantine_name(obj)}"
        if obj.path.exists():
            self.lake.put_file(obj.path, prefix)
        write_reason(self.lake, prefix, obj, reason)

    def _record(
        self,
        batch_id: str,
        batch: list[InputObject],
        counts: dict[str, int],
        problems: dict[str, str],
        notes: dict[str, str],
        summary: LandingSummary,
    ) -> None:
        now = datetime.now(UTC)
        rows = []
        for obj in batch:
            if obj.skip_reason:
                status, reason, records = state.SKIPPED, obj.skip_reason, 0
                summary.skipped.append((obj.source_object, obj.skip_reason))
            elif obj.source_object in problems:
                status, reason, records = state.QUARANTINED, problems[obj.source_object], 0
                summary.quarantined.append((obj.source_object, reason))
            else:
                reason = notes.get(obj.source_object)
                status, records = state.LANDED, counts.get(obj.source_object, 0)
                summary.landed += 1
                summary.records += records
                if reason:
                    summary.quarantined.append((obj.source_object, reason))
            rows.append(
                state.InputRecord(
                    source_object=obj.source_object,
                    fingerprint=obj.fingerprint,
                    size_bytes=obj.size_bytes,
                    status=status,
                    reason=reason,
                    records=records,
                    batch_id=batch_id,
                    recorded_at=now,
                )
            )
        self.known.record(batch_id, rows)


_GLOB = re.compile(r"[\[\]*?]")


def _plain_path(path: Path, aliases: Path, n: int) -> str:
    """The path to hand DuckDB for an input: itself, or, when DuckDB would read it as a glob
    (`[`, `*`, `?`) or cannot take it as text (bytes that are not UTF-8), a link to it under a
    plain name that keeps the suffixes the compression is detected from."""
    text = str(path)
    try:
        text.encode("utf-8")
        if not _GLOB.search(text):
            return text
    except UnicodeEncodeError:
        pass
    suffix = _UNSAFE.sub("_", "".join(PurePosixPath(path.name).suffixes[-2:])).lower()
    aliases.mkdir(parents=True, exist_ok=True)
    link = aliases / f"input-{n}{suffix[:20]}"
    link.unlink(missing_ok=True)
    link.symlink_to(path)
    return str(link)


def write_reason(lake: Lake, prefix: str, obj: InputObject, reason: str, **extra: object) -> None:
    """`<prefix>.reason.json`: what was quarantined, from where, and why."""
    document = {
        "source_object": obj.source_object,
        "fingerprint": obj.fingerprint,
        "size_bytes": obj.size_bytes,
        "reason": reason,
        **extra,
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    lake.put_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2), f"{prefix}.reason.json")
