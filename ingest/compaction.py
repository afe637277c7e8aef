"""Merge the small files that landing accumulates, per partition, into files of a sensible size.

Every pull or load adds one file per partition it touches; a month of five-minute pulls would
leave thousands of tiny files that make every read slow. A rewrite reads a partition's files,
writes their distinct rows sorted (in files of at most TARGET_FILE_BYTES), publishes the new
files and only then deletes the old ones. A crash in between leaves the same rows twice, never
fewer, and the next compaction (which keeps distinct rows) or `cloudtrail_events` (which keeps
one row per eventID) absorbs the duplicates.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import duckdb

from ingest import state
from ingest.duck import sql_list, sql_string
from ingest.lake import Lake
from ingest.landing import LANDING_PREFIX, SOURCE

TARGET_FILE_BYTES = "256MB"
# Landing commands compact the partitions they touched once this many files pile up.
AUTO_MIN_FILES = 32


@dataclass
class CompactionSummary:
    partitions: list[str] = field(default_factory=list)
    files_before: int = 0
    files_after: int = 0
    rows_removed: int = 0


def rewrite(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    keys: list[str],
    directory: str,
    order_by: str,
    keep: str = "true",
) -> tuple[int, int]:
    """Replace `keys` (Parquet files in one directory) by compacted files with the rows that
    satisfy `keep`; return (files written, rows dropped by `keep` or as duplicates)."""
    inputs = sorted(keys)
    digest = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]
    aside = lake.scratch / f"compact-{digest}-{os.getpid()}"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir(parents=True)
    uris = sql_list(lake.uri(key) for key in inputs)
    (before,) = con.execute(f"select count(*) from read_parquet({uris})").fetchone()
    con.execute(
        f"""
        copy (
            -- by name: files landed before a column existed (collection) still merge
            select distinct *
            from read_parquet({uris}, hive_partitioning = false, union_by_name = true)
            where {keep}
            order by {order_by}
        ) to {sql_string(str(aside))} (
            format parquet,
            compression zstd,
            file_size_bytes '{TARGET_FILE_BYTES}',
            filename_pattern 'compact-{digest}-{{i}}'
        )
        """
    )
    written = sorted(aside.glob("*.parquet"))
    (after,) = (
        con.execute(f"select count(*) from read_parquet({sql_list(map(str, written))})").fetchone()
        if written
        else (0,)
    )
    if after == 0:  # nothing left: the directory empties instead of holding an empty file
        written = []
    published = []
    for path in written:
        key = f"{directory}/{path.name}"
        lake.put_file(path, key, move=True)
        published.append(key)
    for key in inputs:
        if key not in published:
            lake.delete(key)
    shutil.rmtree(aside, ignore_errors=True)
    return len(published), before - after


def _landing_partitions(lake: Lake) -> dict[str, list[str]]:
    partitions: dict[str, list[str]] = defaultdict(list)
    for key, _ in lake.list(LANDING_PREFIX):
        if key.endswith(".parquet"):
            partitions[str(PurePosixPath(key).parent)].append(key)
    return partitions


def compact_landing(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    *,
    min_files: int = 2,
    only: set[str] | None = None,
) -> CompactionSummary:
    """Compact landing partitions holding at least `min_files` files (`only`: these dates)."""
    summary = CompactionSummary()
    for directory, keys in sorted(_landing_partitions(lake).items()):
        day = directory.rsplit("=", 1)[-1]
        if len(keys) < min_files or (only is not None and day not in only):
            continue
        written, _ = rewrite(lake, con, keys, directory, "event_time, event_id, source_object")
        summary.partitions.append(day)
        summary.files_before += len(keys)
        summary.files_after += written
    return summary


def compact_state(lake: Lake, con: duckdb.DuckDBPyConnection, *, min_files: int = 2) -> int:
    """Merge the per-batch input records; return how many files were merged."""
    prefix = state.inputs_prefix(SOURCE)
    keys = [key for key, _ in lake.list(prefix) if key.endswith(".parquet")]
    if len(keys) < min_files:
        return 0
    rewrite(lake, con, keys, prefix, "recorded_at, source_object, fingerprint")
    return len(keys)


def forget(lake: Lake, con: duckdb.DuckDBPyConnection, prefix: str) -> int:
    """Remove every landed record, and the input records, of sources under `prefix`.

    Used when a dataset is regenerated (`ingest demo --replace`) so old records never mix with
    new ones. Returns the number of landed records removed.
    """
    keep = f"not starts_with(source_object, {sql_string(prefix)})"
    removed = 0
    for directory, keys in sorted(_landing_partitions(lake).items()):
        (hits,) = con.execute(
            f"select count(*) from read_parquet({sql_list(lake.uri(k) for k in keys)}) "
            f"where not ({keep})"
        ).fetchone()
        if hits:
            removed += rewrite(lake, con, keys, directory, "event_time, event_id", keep)[1]
    inputs = [k for k, _ in lake.list(state.inputs_prefix(SOURCE)) if k.endswith(".parquet")]
    if inputs:
        rewrite(lake, con, inputs, state.inputs_prefix(SOURCE), "recorded_at, source_object", keep)
    return removed
