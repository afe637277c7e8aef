"""Landing state kept in the lake: which inputs were landed, skipped or quarantined.

Each landing batch writes one small Parquet file under `<lake>/_state/<source>/inputs/`, so
several machines pointed at the same lake see the same history and never clobber each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.settings import Lake

LANDED = "landed"
SKIPPED = "skipped"
QUARANTINED = "quarantined"

_SCHEMA = pa.schema(
    [
        ("source_object", pa.string()),
        ("fingerprint", pa.string()),
        ("size_bytes", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("records", pa.int64()),
        ("batch_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class InputRecord:
    source_object: str
    fingerprint: str
    size_bytes: int
    status: str
    reason: str | None
    records: int
    batch_id: str
    recorded_at: datetime


def inputs_dir(lake: Lake, source: str) -> Path:
    return lake.state(source) / "inputs"


def write_batch(lake: Lake, source: str, batch_id: str, rows: Iterable[InputRecord]) -> None:
    """Write one batch's input records atomically (write aside, then rename)."""
    rows = list(rows)
    if not rows:
        return
    target = inputs_dir(lake, source) / f"{batch_id}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = lake.tmp / f"state-{source}-{batch_id}-{os.getpid()}.parquet"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([asdict(r) for r in rows], schema=_SCHEMA)
    pq.write_table(table, tmp)
    os.replace(tmp, target)


def _glob(lake: Lake, source: str) -> str | None:
    directory = inputs_dir(lake, source)
    if not directory.is_dir() or not any(directory.glob("*.parquet")):
        return None
    return str(directory / "*.parquet")


def seen(lake: Lake, source: str, con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(source_object, fingerprint) pairs already handled; the same bytes are never landed twice."""
    pattern = _glob(lake, source)
    if pattern is None:
        return set()
    rows = con.execute(
        "select distinct source_object, fingerprint from read_parquet(?)", [pattern]
    ).fetchall()
    return {(s, f) for s, f in rows}


def summary(lake: Lake, source: str, con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per status: inputs, records, bytes, last time."""
    pattern = _glob(lake, source)
    if pattern is None:
        return []
    return con.execute(
        """
        select status, count(*), sum(records), sum(size_bytes), max(recorded_at)
        from read_parquet(?)
        group by status
        order by status
        """,
        [pattern],
    ).fetchall()


def quarantined(lake: Lake, source: str, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    pattern = _glob(lake, source)
    if pattern is None:
        return []
    return con.execute(
        """
        select source_object, reason from read_parquet(?)
        where status = 'quarantined'
        order by recorded_at desc, source_object
        """,
        [pattern],
    ).fetchall()
