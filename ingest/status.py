"""What the lake holds: landing state per source and the datasets dbt wrote."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest import state
from ingest.duck import sql_string
from ingest.lake import Lake
from ingest.outbox import Outbox

# Lake datasets from the contract, in the order a reader meets them.
DATASETS = ("cloudtrail_events", "alerts", "http_access_log", "custom_logs")
LANDING_SOURCES = ("cloudtrail", "http_access_log", "custom_logs")


@dataclass(frozen=True)
class DatasetStats:
    name: str
    rows: int
    partitions: int
    files: int
    size_bytes: int
    first_partition: str | None
    last_partition: str | None


def dataset_stats(lake: Lake, con: duckdb.DuckDBPyConnection, name: str) -> DatasetStats | None:
    files = [
        (key, size)
        for key, size in lake.list(name)
        if key.endswith(".parquet") and "=" in key.split("/")[-2]
    ]
    if not files:
        return None
    partitions = sorted({key.split("/")[-2].split("=", 1)[1] for key, _ in files})
    # Row counts come from Parquet footers; no data pages are read.
    (rows,) = con.execute(
        "select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)",
        [[lake.uri(key) for key, _ in files]],
    ).fetchone()
    return DatasetStats(
        name=name,
        rows=int(rows),
        partitions=len(partitions),
        files=len(files),
        size_bytes=sum(size for _, size in files),
        first_partition=partitions[0],
        last_partition=partitions[-1],
    )


def landing_stats(lake: Lake, con: duckdb.DuckDBPyConnection, source: str) -> list[tuple]:
    return state.summary(lake, source, con)


def alert_stats(lake: Lake, con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Open (unsuppressed) alerts per severity and detection, most severe first."""
    if not any(key.endswith(".parquet") for key, _ in lake.list("alerts")):
        return []
    return con.execute(
        f"""
        select severity, detection_id, any_value(title), count(*), max(last_seen_at)
        from read_parquet({sql_string(lake.uri("alerts/*/*.parquet"))}, hive_partitioning = true)
        where not suppressed
        group by severity, detection_id
        order by
            list_position(['critical', 'high', 'medium', 'low', 'info'], severity),
            count(*) desc,
            detection_id
        """
    ).fetchall()


def collection_events(lake: Lake, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per collection across the datasets that record one (the built lake)."""
    counts: dict[str, int] = {}
    for name in ("cloudtrail_events", "http_access_log", "custom_logs"):
        pattern = sql_string(lake.uri(f"{name}/*/*.parquet"))
        if not con.execute(f"select count(*) from glob({pattern})").fetchone()[0]:
            continue
        columns = {
            row[0] for row in con.execute(f"select name from parquet_schema({pattern})").fetchall()
        }
        if "collection" not in columns:
            continue
        for collection, rows in con.execute(
            f"select collection, count(*) from read_parquet({pattern}, union_by_name = true) "
            "group by 1"
        ).fetchall():
            if collection is not None:
                counts[collection] = counts.get(collection, 0) + rows
    return counts


def delivery_stats(lake: Lake) -> dict[str, int]:
    """Alerts `ingest watch` still has to deliver, and those its webhook refused."""
    outbox = Outbox(lake)
    return {"outbox": len(outbox.pending()), "undelivered": len(outbox.undelivered())}
