"""Pulling the collections of `trailhouse.yml`: each on its own, a failure kept to itself.

Every pull goes through `pull_one`: `ingest pull [NAME...]` with the config's collections,
`ingest pull cloudtrail` and `ingest watch cloudtrail` with one built from their flags
(`from_flags`), so a bucket or queue is read the same way whichever command names it.

Every collection lands its rows with `collection = <name>`. After each run its outcome is
written to `<lake>/_state/collections/<name>.json` (last run, last success, counts, last
error), which `ingest status` shows as a table per collection.
"""

from __future__ import annotations

import glob
import os
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import aws
from ingest.config import Config, resolve
from ingest.filters import canonical
from ingest.lake import Lake
from ingest.landing import Lander, LandingSummary
from ingest.line_landing import LineLander
from ingest.pull import LOOKBACK_DAYS, pull_bucket, pull_queue
from ingest.sources import local_files
from ingest.sources.access_log import access_log_format
from ingest.sources.custom_format import custom_format
from ingest.sources.s3_cloudtrail import S3CloudTrail

STATE_PREFIX = "_state/collections"


@dataclass
class Outcome:
    name: str
    type: str
    ok: bool
    objects: int = 0
    records: int = 0
    bytes_read: int = 0
    quarantined: int = 0
    error: str | None = None
    started_at: str = ""
    finished_at: str = ""
    last_success_at: str | None = None


def _paths(patterns: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(str(Path(pattern).expanduser()), recursive=True))
        found.extend(Path(m) for m in matches)
    return found


@dataclass
class PullOptions:
    """How a pull runs, beyond what the collection says (command-line flags)."""

    workers: int = 16
    insights: bool = False  # also CloudTrail-Insight files
    lookback_days: int | None = None  # else the collection's `lookback_days`, else the default
    max_messages: int | None = None  # SQS: stop after this many
    until_empty: bool = True  # SQS: stop when the queue is empty
    delete: bool = True  # SQS: delete messages once their objects landed
    wait_seconds: int = 1  # SQS: long-poll wait per receive
    progress: Callable[[int, int, int], None] | None = None


def from_flags(
    bucket: str | None,
    prefix: str,
    org_id: str | None,
    accounts: list[str] | None,
    regions: list[str] | None,
    queue_url: str | None,
    profile: str | None,
) -> tuple[Config, str]:
    """A config holding the one collection that `ingest pull cloudtrail` / `ingest watch`
    flags describe, and its name (the bucket and prefix, or the queue: what its rows record
    as `collection`). Flag values are taken as they are, never as `${NAME}` references."""
    name = queue_url or f"s3://{bucket}/{prefix}".rstrip("/")
    if queue_url:
        spec: dict[str, Any] = {"type": "cloudtrail_sqs", "queue_url": queue_url}
    else:
        spec = {"type": "cloudtrail_s3", "bucket": bucket, "prefix": prefix, "org_id": org_id,
                "accounts": accounts or [], "regions": regions or []}  # fmt: skip
    spec["connection"] = "command line"
    connection = {"profile": profile} if profile else {}
    config = Config(
        Path("(command line)"), {"command line": connection}, {name: spec}, literal=True
    )
    return config, name


def _landing_of(summary: Any) -> LandingSummary:
    return summary.landing if hasattr(summary, "landing") else summary


def pull_one(
    config: Config,
    name: str,
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    start: date | None,
    end: date | None,
    options: PullOptions | None = None,
) -> Any:
    """Run one collection; returns its PullSummary or LandingSummary; raises on failure."""
    options = options or PullOptions()
    literal = config.literal
    spec = config.collections[name] if literal else resolve(config.collections[name])
    kind = spec["type"]
    workers = options.workers
    if kind in ("cloudtrail_s3", "cloudtrail_sqs"):
        connection = config.connections.get(spec.get("connection", ""), {})
        connection = connection if literal else resolve(connection)
        session = aws.session(
            connection.get("profile"),
            connection.get("role_arn"),
            connection.get("external_id"),
            connection.get("region"),
        )
        endpoint = connection.get("endpoint_url")
        s3 = aws.client("s3", boto_session=session, endpoint_url=endpoint)
        lander = Lander(lake, con, name)
        if kind == "cloudtrail_sqs":
            sqs = aws.client("sqs", boto_session=session, endpoint_url=endpoint)
            return pull_queue(s3, sqs, spec["queue_url"], lander, workers=workers,
                              max_messages=options.max_messages, until_empty=options.until_empty,
                              delete=options.delete, wait_seconds=options.wait_seconds,
                              progress=options.progress)  # fmt: skip
        source = S3CloudTrail(
            s3, spec["bucket"], spec.get("prefix", ""), org_id=spec.get("org_id"),
            accounts=tuple(spec.get("accounts") or ()), regions=tuple(spec.get("regions") or ()),
            insights=options.insights,
        )  # fmt: skip
        lookback = options.lookback_days
        if lookback is None:
            lookback = spec.get("lookback_days", LOOKBACK_DAYS)
        return pull_bucket(
            source, lander, start=start, end=end, workers=workers, lookback_days=lookback,
            progress=options.progress,
        )  # fmt: skip
    paths = _paths(spec["paths"])
    if not paths:
        raise FileNotFoundError(f"no file matches {', '.join(spec['paths'])}")
    if kind == "cloudtrail_file":
        objects, _ = local_files.discover(paths)
        return Lander(lake, con, name).land(objects)
    objects, _ = local_files.discover(paths, suffixes=None, cloudtrail=False)
    if kind == "access_log":
        line_format = access_log_format(spec.get("format", "combined"), spec.get("log_format"))
        return LineLander(lake, con, "http_access_log", name).land(objects, line_format)
    line_format = custom_format(spec["format"], config.formats[spec["format"]])
    return LineLander(lake, con, "custom_logs", name).land(objects, line_format)


def _target(spec: dict[str, Any]) -> str:
    """What a collection reads, for error messages."""
    if spec.get("bucket"):
        return f"s3://{spec['bucket']}/{spec.get('prefix', '')}".rstrip("/")
    return spec.get("queue_url") or ", ".join(spec.get("paths") or [])


DATASET_OF = {
    "cloudtrail_s3": "cloudtrail",
    "cloudtrail_sqs": "cloudtrail",
    "cloudtrail_file": "cloudtrail",
    "access_log": "http_access_log",
    "custom": "custom_logs",
}


def record_filters(config: Config, lake: Lake) -> None:
    """Every collection's `filters`, in their canonical form (the build refuses any other),
    where dbt's storage filter reads them (`_state/collections/filters.parquet`); a changed
    filter changes the model SQL, so the next build applies it to the whole lake."""
    rows = [
        (name, DATASET_OF[spec["type"]], position, canonical(condition))
        for name, spec in config.collections.items()
        for position, condition in enumerate(spec.get("filters") or [])
    ]
    table = pa.table(
        {
            "collection": [r[0] for r in rows],
            "dataset": [r[1] for r in rows],
            "position": pa.array([r[2] for r in rows], pa.int32()),
            "condition": [r[3] for r in rows],
        }
    )
    local = lake.scratch / f"collection-filters-{os.getpid()}.parquet"
    lake.ensure()
    pq.write_table(table, local)
    lake.put_file(local, f"{STATE_PREFIX}/filters.parquet", move=True)


def pull_all(
    config: Config,
    names: list[str],
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    start: date | None = None,
    end: date | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Pull each named collection in turn; one failing does not stop the next."""
    record_filters(config, lake)
    outcomes = []
    for name in names:
        started = datetime.now(UTC).isoformat()
        previous = read_outcome(lake, name)
        try:
            summary = pull_one(config, name, lake, con, start, end)
            landing = _landing_of(summary)
            failed = list(getattr(summary, "failed", [])) + list(
                getattr(summary, "messages_kept", [])
            )
            warnings = list(getattr(summary, "warnings", []))
            outcome = Outcome(
                name, config.collections[name]["type"], ok=not failed and not warnings,
                objects=landing.landed, records=landing.records, bytes_read=landing.bytes_read,
                quarantined=len(landing.quarantined),
                error="; ".join([*warnings, *(f"{u}: {r}" for u, r in failed[:3])]) or None,
            )  # fmt: skip
        except Exception as exc:  # a collection's failure is reported, the others go on
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            detail = detail.removeprefix("botocore.errorfactory.")
            target = _target(config.collections[name])
            outcome = Outcome(
                name, config.collections[name]["type"], ok=False, error=f"{target}: {detail}"
            )
        outcome.started_at = started
        outcome.finished_at = datetime.now(UTC).isoformat()
        outcome.last_success_at = (
            outcome.finished_at if outcome.ok else (previous or {}).get("last_success_at")
        )
        lake.put_bytes(
            orjson.dumps(asdict(outcome), option=orjson.OPT_INDENT_2), f"{STATE_PREFIX}/{name}.json"
        )
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes


def read_outcome(lake: Lake, name: str) -> dict[str, Any] | None:
    data = lake.get_bytes(f"{STATE_PREFIX}/{name}.json")
    return orjson.loads(data) if data else None


def read_outcomes(lake: Lake) -> list[dict[str, Any]]:
    keys = [key for key, _ in lake.list(STATE_PREFIX) if key.endswith(".json")]
    return [orjson.loads(lake.get_bytes(key) or b"{}") for key in keys]
