"""One way to open DuckDB for ingest: UTC sessions, bounded memory, spill under the lake."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def connect(spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # Partition dates must not depend on the machine's time zone.
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{os.environ.get('TRAILHOUSE_MEMORY_LIMIT', '2GB')}'")
    con.execute("set preserve_insertion_order = false")
    if threads := os.environ.get("TRAILHOUSE_THREADS"):
        con.execute(f"set threads = {int(threads)}")
    if spill_dir is not None:
        spill_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"set temp_directory = {sql_string(str(spill_dir))}")
    return con


def sql_string(value: str) -> str:
    """Quote a value as a SQL string literal (for statements that take no parameters)."""
    return "'" + value.replace("'", "''") + "'"
