"""`ingest export security-lake`: OCSF findings and API activity in Amazon Security Lake.

Security Lake takes a custom source's data as Parquet objects under the prefix it gives the
source, one OCSF class per source (AWS: "deliver each unique OCSF event class as a separate
source"), partitioned as

    ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<object>.parquet

trailhouse writes two sources: Detection Findings (2004, the `ocsf_detection_finding` view)
under `ext/<source>/` and API Activity (6003, `ocsf_api_activity`) under `ext/<source>-api/`
(Security Lake keeps custom source names to 20 characters, so the suffix is short). Objects
are zstd Parquet, rows sorted by `time`, with the OCSF objects as nested structs
(ingest.ocsf). The region, account and day of a key come from lake data, so each is checked
(`us-east-1`, twelve digits, a date) before it becomes part of a key; rows that fail are
counted and reported, never written elsewhere. Object names are fixed by partition and part
number, and parts a smaller rerun no longer writes are deleted: a rerun replaces, never
duplicates. Findings carry the alert's triage status (ingest.triage), which the dbt view cannot
see.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ingest import ocsf
from ingest import query as lake_query
from ingest.lake import Lake, UsageError
from ingest.ocsf import nest_batch
from ingest.timerange import TimeRange

# Security Lake names a custom source's provider role after it and keeps the name to 20
# characters; the API activity source adds "-api".
SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
SOURCE_VERSION = re.compile(r"[A-Za-z0-9._-]{1,32}")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
ACCOUNT_ID = re.compile(r"[0-9]{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
ROWS_PER_FILE = 1_000_000
BATCH_ROWS = 65_536
DAY_MS = 86_400_000


@dataclass(frozen=True)
class OcsfSource:
    view: str  # the dbt view with the class's rows
    dataset: str  # the lake dataset whose day partitions hold them
    suffix: str  # appended to the source name


FINDINGS = ocsf.FINDING_VIEW
SOURCES = (
    OcsfSource(FINDINGS, "alerts", ""),
    OcsfSource("ocsf_api_activity", "cloudtrail_events", "-api"),
)


@dataclass
class SourceSummary:
    view: str
    prefix: str
    rows: int = 0
    objects: int = 0
    removed: int = 0  # stale parts of earlier runs deleted
    partitions: set[tuple[str, str, str]] = field(default_factory=set)
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> rows
    examples: dict[str, str] = field(default_factory=dict)  # reason -> one offending value


@dataclass
class ExportSummary:
    bucket: str
    sources: list[SourceSummary]

    @property
    def rejected(self) -> int:
        return sum(sum(s.rejected.values()) for s in self.sources)


def check_name(value: str, pattern: re.Pattern[str], option: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise UsageError(f"{option} must be {what}, not {value!r}")
    return value


def partition_problem(region: object, account: object, day: object) -> tuple[str, str] | None:
    """(reason, the offending value) when a row's region, account or day cannot be a key
    component; None when all three can."""
    if not isinstance(region, str) or not REGION.fullmatch(region):
        return ("region is not an AWS region name", repr(region))
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        return ("account is not a 12-digit AWS account id", repr(account))
    if not isinstance(day, date):
        return ("time is not a date", repr(day))
    return None


def partition_prefix(source_prefix: str, region: str, account: str, day: date) -> str:
    """The key prefix of one partition under `ext/<source>/`; the region, account and day
    are checked here again, so no caller can skip `partition_problem`."""
    if partition_problem(region, account, day) is not None:
        raise ValueError("refusing a key component that failed validation")
    return f"{source_prefix}region={region}/accountId={account}/eventDay={day:%Y%m%d}/"


def _day_of(epoch_days: int | None) -> date | None:
    if epoch_days is None:
        return None
    try:
        return date(1970, 1, 1) + timedelta(days=int(epoch_days))
    except OverflowError:
        return None


def export(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    dbt_database: Path,
    s3,
    bucket: str,
    source: str,
    span: TimeRange,
    source_version: str | None = None,
    default_account: str | None = None,
    default_region: str | None = None,
    rows_per_file: int = ROWS_PER_FILE,
    on_day: Callable[[str, date], None] | None = None,
) -> ExportSummary:
    """Write every OCSF source's rows in `span` to `bucket`; rows without a region or account
    (web alerts) take `default_region` / `default_account` when given."""
    check_name(bucket, BUCKET_NAME, "--bucket", "an S3 bucket name")
    check_name(source, SOURCE_NAME, "--source", "1-16 letters, digits, '-' or '_'")
    if source_version is not None:
        check_name(source_version, SOURCE_VERSION, "--source-version", "1-32 of [A-Za-z0-9._-]")
    if default_account is not None:
        check_name(default_account, ACCOUNT_ID, "--account-id", "a 12-digit account id")
    if default_region is not None:
        check_name(default_region, REGION, "--region", "an AWS region name (us-east-1)")
    if not span.whole_days:
        # an object holds a whole eventDay: part of one would replace the day with that part
        raise UsageError("--from/--to must be whole days (YYYY-MM-DD) for an export")
    catalog = lake_query.register(con, lake, dbt_database, span)
    if catalog.skipped_views.get("*"):
        raise RuntimeError(catalog.skipped_views["*"])
    summaries = []
    for spec in SOURCES:
        name = f"{source}{spec.suffix}" + (f"/{source_version}" if source_version else "")
        summary = SourceSummary(spec.view, f"ext/{name}/")
        summaries.append(summary)
        if spec.dataset not in catalog.datasets:
            continue  # nothing of this kind in the lake yet
        if spec.view not in catalog.views:
            raise UsageError(f"the {spec.view} view is not built: run `dbt build` first")
        partitions = catalog.datasets[spec.dataset]
        first_file = next(iter(partitions.values()))[0]
        low = (span.first_day or date.min).isoformat()
        high = (span.last_day or date.max).isoformat()
        for value in sorted(v for v in partitions if low <= v[:10] <= high):
            if on_day:
                on_day(spec.view, date.fromisoformat(value[:10]))
            # the view reads this day's files only
            lake_query.point_view(con, spec.dataset, partitions[value], schema_from=first_file)
            _export_day(
                con, s3, bucket, spec, summary, span, date.fromisoformat(value[:10]),
                default_account, default_region, rows_per_file, lake.scratch,
            )  # fmt: skip
        lake_query.point_view(
            con, spec.dataset, [f for fs in partitions.values() for f in fs], first_file
        )
    return ExportSummary(bucket, summaries)


def _in_span(span: TimeRange) -> tuple[str, list[int]]:
    parts, params = [], []
    if span.start:
        parts.append('"time" >= ?')
        params.append(int(span.start.timestamp() * 1000))
    if span.end:
        parts.append('"time" < ?')
        params.append(int(span.end.timestamp() * 1000))
    return " and ".join(parts) or "true", params


def _export_day(
    con: duckdb.DuckDBPyConnection,
    s3,
    bucket: str,
    spec: OcsfSource,
    summary: SourceSummary,
    span: TimeRange,
    lake_day: date,
    default_account: str | None,
    default_region: str | None,
    rows_per_file: int,
    scratch: Path,
) -> None:
    condition, params = _in_span(span)
    # findings with their triage status: `register` creates alerts_triaged with any alerts
    relation = f"({ocsf.TRIAGED_FINDINGS})" if spec.view == FINDINGS else f'"{spec.view}"'
    # one day of the class, computed once: every partition of the day reads this table
    con.execute(
        "create or replace temp table export_rows as select *, "
        f'coalesce("cloud.region", ?) as _region, coalesce("cloud.account.uid", ?) as _account, '
        f'floor("time" / {DAY_MS})::bigint as _day from {relation} where {condition}',
        [default_region, default_account, *params],
    )
    keys = con.execute(
        "select _region, _account, _day, count(*) from export_rows group by all order by all"
    ).fetchall()
    for region, account, epoch_days, count in keys:
        day = _day_of(epoch_days)
        problem = partition_problem(region, account, day)
        if problem is None and day != lake_day:
            problem = ("time is outside its lake partition's day", repr(day))
        if problem is not None:
            reason, example = problem
            summary.rejected[reason] += count
            summary.examples.setdefault(reason, example)
            continue
        prefix = partition_prefix(summary.prefix, region, account, day)
        written = _write_partition(
            con, s3, bucket, prefix, spec.view, day, region, account, epoch_days,
            rows_per_file, scratch,
        )  # fmt: skip
        summary.rows += count
        summary.objects += len(written)
        summary.partitions.add((region, account, f"{day:%Y%m%d}"))
        summary.removed += _remove_stale(s3, bucket, prefix, spec.view, written)
    con.execute("drop table export_rows")


def _write_partition(
    con: duckdb.DuckDBPyConnection,
    s3,
    bucket: str,
    prefix: str,
    view: str,
    day: date,
    region: str,
    account: str,
    epoch_days: int,
    rows_per_file: int,
    scratch: Path,
) -> set[str]:
    """The partition's rows, sorted by time, as parts of at most `rows_per_file` rows."""
    result = con.execute(
        "select * exclude (_region, _account, _day) from export_rows "
        "where _region = ? and _account = ? and _day = ? "
        'order by "time", "metadata.uid"',
        [region, account, epoch_days],
    )
    reader = result.to_arrow_reader(BATCH_ROWS)
    written: set[str] = set()
    part, writer, rows, local = 0, None, 0, None

    def finish() -> None:
        nonlocal writer
        if writer is None:
            return
        writer.close()
        writer = None
        key = f"{prefix}{view}-{day:%Y%m%d}-{part:05d}.parquet"
        s3.upload_file(str(local), bucket, key)
        local.unlink()
        written.add(key)

    scratch.mkdir(parents=True, exist_ok=True)
    for batch in reader:
        nested = nest_batch(batch)
        start = 0
        while start < nested.num_rows:
            if writer is None:
                # named per process and part: readers of one lake may export side by side
                local = scratch / f"security-lake-{os.getpid()}-{secrets.token_hex(6)}.parquet"
                writer = pq.ParquetWriter(str(local), nested.schema, compression="zstd")
                rows = 0
            take = min(rows_per_file - rows, nested.num_rows - start)
            writer.write_batch(nested.slice(start, take))
            rows += take
            start += take
            if rows >= rows_per_file:
                finish()
                part += 1
    finish()
    return written


def _remove_stale(s3, bucket: str, prefix: str, view: str, written: set[str]) -> int:
    """Delete the parts an earlier, larger run wrote into this partition."""
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            name = item["Key"][len(prefix) :]
            if item["Key"] not in written and name.startswith(f"{view}-"):
                stale.append(item["Key"])
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    return len(stale)


def show(summary: ExportSummary) -> None:
    """What was written where, and every row that was not, with why."""
    from rich.table import Table

    from ingest.console import err, out, shown

    table = Table(title=f"s3://{shown(summary.bucket)}")
    for column in ("class", "prefix", "rows", "partitions", "objects", "stale removed"):
        table.add_column(column)
    for item in summary.sources:
        table.add_row(
            item.view, shown(item.prefix), f"{item.rows:,}", f"{len(item.partitions):,}",
            f"{item.objects:,}", f"{item.removed:,}",
        )  # fmt: skip
    out.print(table)
    for item in summary.sources:
        for reason, count in sorted(item.rejected.items()):
            err.print(
                f"[red]not exported:[/] {count:,} {item.view} row(s): {shown(reason)} "
                f"(e.g. {shown(item.examples[reason])})"
            )
    if summary.rejected and any(
        reason.startswith(("region", "account")) for s in summary.sources for reason in s.rejected
    ):
        err.print("Rows with no region or account (web alerts) take --region / --account-id.")
