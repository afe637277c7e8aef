"""Land raw CloudTrail into the lake's landing zone as event_date-partitioned Parquet.

Every record is kept complete (the `raw` JSON column) next to the few fields landing needs
(`event_id`, `event_time`, `event_date`) and where it came from (`source_object`). DuckDB does the
parsing, in batches of files; a batch that fails is retried file by file so one bad input is
quarantined with its reason while the rest lands. Files are written aside and renamed into place,
and batch ids are derived from the inputs, so a rerun or a crash never duplicates or half-writes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb
import orjson
import pyarrow as pa

from ingest import state
from ingest.duck import enable_s3, sql_list, sql_string
from ingest.lake import Lake

SOURCE = "cloudtrail"
LANDING_PREFIX = f"landing/{SOURCE}"
QUARANTINE_PREFIX = f"_quarantine/{SOURCE}"
# Largest single JSON document (a whole `{"Records": [...]}` file) DuckDB will parse. CloudTrail
# files are a few MB; DuckDB reserves buffers of twice this size per thread, so it stays modest.
MAX_OBJECT_BYTES = 128 << 20
# Errors that mean "this input is bad"; anything else (memory, disk) aborts the run unrecorded,
# so the next run retries instead of quarantining a good file.
_BAD_INPUT = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException)
_BAD_IO = re.compile(r"gzip|compress|zstd|malformed|unexpected end", re.IGNORECASE)


def _is_bad_input(exc: duckdb.Error) -> bool:
    if isinstance(exc, duckdb.IOException):
        return bool(_BAD_IO.search(str(exc)))  # a corrupt stream, not a failing disk
    return True


_INPUTS_SCHEMA = pa.schema(
    [("path", pa.string()), ("source_object", pa.string()), ("is_good", pa.bool_())]
)

BATCH_MAX_FILES = 2000
BATCH_MAX_BYTES = 64 << 20

# One statement turns every supported input shape into one row per CloudTrail record:
# S3 delivery files ({"Records": [...]}), `aws cloudtrail lookup-events` output (records as JSON
# strings in Events[].CloudTrailEvent), a JSON array of records, or JSON lines of records.
# Documents of no known shape yield a NULL record, so the file can be quarantined as foreign.
_EXTRACT = f"""
insert into batch_records
select
    filename,
    record,
    -- one parse of the few fields landing needs, instead of a json_extract per field
    from_json(
        record,
        '{{{{"eventID": "VARCHAR", "eventTime": "VARCHAR",
          "eventSource": "VARCHAR", "eventName": "VARCHAR"}}}}'
    ) as head,
from (
    select
        filename,
        unnest(
            coalesce(
                case
                    when json_type(json, '$.Records') = 'ARRAY'
                        then json_extract(json, '$.Records[*]')
                    when json_type(json, '$.Events') = 'ARRAY'
                        then list_transform(
                            json_extract_string(json, '$.Events[*].CloudTrailEvent'),
                            x -> try_cast(x as json)
                        )
                    when json_type(json) = 'ARRAY'
                        then json_extract(json, '$[*]')
                    when json_exists(json, '$.eventID')
                        then [json]
                end,
                [null::json]
            )
        ) as record
    from read_json_objects(
        {{files}}, format = 'auto', filename = true, maximum_object_size = {MAX_OBJECT_BYTES}
    )
)
"""

_BATCH_RECORDS = """
create or replace temp table batch_records (
    filename varchar,
    record json,
    head struct(eventID varchar, eventTime varchar, eventSource varchar, eventName varchar)
)
"""

_VALIDATE = """
select
    filename,
    count(record) as records,
    count(*) filter (where record is null) as foreign_documents,
    count(*) filter (
        where record is not null and (
            nullif(head.eventID, '') is null
            or head.eventSource is null
            or head.eventName is null
            or try_cast(head.eventTime as timestamptz) is null
        )
    ) as incomplete_records
from batch_records
group by filename
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
    where i.is_good
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
    rejected_lines: int = 0  # line formats: malformed lines quarantined from landed files


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
        # (source_object, fingerprint) of inputs handled by any run on this lake, loaded per
        # delivery day on first use so memory follows the days in play, not the lake's age.
        self._known: dict[str, set[tuple[str, str]]] = {}

    def preload(self, days: Iterable[str]) -> None:
        """Load what is known for these delivery days (`YYYY/MM/DD`) in one pass."""
        missing = set(days) - self._known.keys()
        if not missing:
            return
        for day in missing:
            self._known[day] = set()
        for source_object, fingerprint in state.seen(self.lake, SOURCE, self.con, missing):
            self._known[state.delivery_day(source_object)].add((source_object, fingerprint))

    def is_known(self, source_object: str, fingerprint: str) -> bool:
        day = state.delivery_day(source_object)
        self.preload([day])
        return (source_object, fingerprint) in self._known[day]

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
            if self.is_known(obj.source_object, obj.fingerprint):
                summary.already_landed += 1
            elif obj.skip_reason:
                skipped.append(obj)
            else:
                pending.append(obj)

        if skipped:
            self._record(batch_id_for(skipped), skipped, {}, {}, summary)
        for batch in _batches(pending):
            self._land_batch(batch, summary)
            if progress:
                progress(len(batch), sum(o.size_bytes for o in batch), summary.records)
        return summary

    # -- one batch -------------------------------------------------------------------------

    def _land_batch(self, batch: list[InputObject], summary: LandingSummary) -> None:
        if self.lake.is_s3:
            enable_s3(self.con)  # fresh credentials for runs that outlive a session token
        batch_id = batch_id_for(batch)
        problems: dict[str, str] = {}
        readable = [o for o in batch if o.size_bytes > 0]
        problems.update({o.source_object: "empty file" for o in batch if o.size_bytes == 0})

        self.con.execute(_BATCH_RECORDS)
        try:
            if readable:
                self.con.execute(_EXTRACT.format(files=sql_list(str(o.path) for o in readable)))
        except _BAD_INPUT as batch_error:
            if not _is_bad_input(batch_error):
                raise
            # Isolate the inputs that break the batch; everything else still lands.
            self.con.execute("delete from batch_records")
            for obj in readable:
                try:
                    self.con.execute(_EXTRACT.format(files=sql_list([str(obj.path)])))
                except _BAD_INPUT as exc:
                    if not _is_bad_input(exc):
                        raise
                    problems[obj.source_object] = f"unreadable: {_clean_error(exc)}"

        counts: dict[str, int] = {}
        by_path = {str(o.path): o for o in readable}
        for filename, records, foreign, incomplete in self.con.execute(_VALIDATE).fetchall():
            obj = by_path[filename]
            if foreign:
                problems[obj.source_object] = (
                    f"not CloudTrail-shaped: {foreign} JSON document(s) without "
                    "Records, Events[].CloudTrailEvent or eventID"
                )
            elif incomplete:
                problems[obj.source_object] = (
                    f"not CloudTrail-shaped: {incomplete} of {records} record(s) lack "
                    "eventID, eventSource, eventName or a valid eventTime"
                )
            else:
                counts[obj.source_object] = records

        good = [o for o in readable if o.source_object not in problems]
        # An Arrow table, not executemany: DuckDB inserts those row by row.
        inputs = pa.table(
            {
                "path": [str(o.path) for o in readable],
                "source_object": [o.source_object for o in readable],
                "is_good": [o.source_object not in problems for o in readable],
            },
            schema=_INPUTS_SCHEMA,
        )
        self.con.register("batch_inputs", inputs)
        if any(counts.get(o.source_object) for o in good):
            self._write(batch_id, summary)
        for obj in batch:
            if obj.source_object in problems:
                self._quarantine(obj, problems[obj.source_object])
        self._record(batch_id, batch, counts, problems, summary)
        summary.bytes_read += sum(o.size_bytes for o in batch)
        self.con.execute("drop table if exists batch_records")
        self.con.unregister("batch_inputs")

    def _write(self, batch_id: str, summary: LandingSummary) -> None:
        aside = self.lake.scratch / f"landing-{SOURCE}-{batch_id}-{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        sql = _WRITE.format(target=sql_string(str(aside)), pattern=sql_string(f"{batch_id}_{{i}}"))
        self.con.execute(sql, {"landed_at": datetime.now(UTC), "collection": self.collection})
        # Each file appears whole (a rename on a local lake, one PUT on S3), never half-written.
        for written in sorted(aside.glob("event_date=*/*.parquet")):
            partition = written.parent.name
            self.lake.put_file(written, f"{LANDING_PREFIX}/{partition}/{written.name}", move=True)
            summary.partitions.add(partition.removeprefix("event_date="))
        shutil.rmtree(aside, ignore_errors=True)

    def _quarantine(self, obj: InputObject, reason: str) -> None:
        name = quarantine_name(obj)
        if obj.path.exists():
            self.lake.put_file(obj.path, f"{QUARANTINE_PREFIX}/{name}")
        reason_doc = {
            "source_object": obj.source_object,
            "fingerprint": obj.fingerprint,
            "size_bytes": obj.size_bytes,
            "reason": reason,
            "quarantined_at": datetime.now(UTC).isoformat(),
        }
        self.lake.put_bytes(
            orjson.dumps(reason_doc, option=orjson.OPT_INDENT_2),
            f"{QUARANTINE_PREFIX}/{name}.reason.json",
        )

    def _record(
        self,
        batch_id: str,
        batch: list[InputObject],
        counts: dict[str, int],
        problems: dict[str, str],
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
                status, reason, records = state.LANDED, None, counts.get(obj.source_object, 0)
                summary.landed += 1
                summary.records += records
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
        state.write_batch(self.lake, SOURCE, batch_id, rows)
        for row in rows:
            day = state.delivery_day(row.source_object)
            self._known.setdefault(day, set()).add((row.source_object, row.fingerprint))
