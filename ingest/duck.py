"""One way to open DuckDB for ingest: UTC sessions, bounded memory, spill to local scratch."""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import duckdb

from ingest.aws import session
from ingest.lake import Lake


def connect(lake: Lake | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # Partition dates must not depend on the machine's time zone.
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{os.environ.get('TRAILHOUSE_MEMORY_LIMIT', '1536MB')}'")
    con.execute("set preserve_insertion_order = false")
    # Each thread parsing JSON reserves twice the largest document size, so the thread count,
    # not the core count, must fit the memory limit.
    threads = int(os.environ.get("TRAILHOUSE_THREADS") or min(os.cpu_count() or 1, 4))
    con.execute(f"set threads = {threads}")
    if lake is not None:
        spill = lake.scratch / "duckdb-spill"
        spill.mkdir(parents=True, exist_ok=True)
        con.execute(f"set temp_directory = {sql_string(str(spill))}")
        if lake.is_s3:
            enable_s3(con)
    return con


def sql_string(value: str) -> str:
    """Quote a value as a SQL string literal (for statements that take no parameters)."""
    return "'" + value.replace("'", "''") + "'"


@contextlib.contextmanager
def partition_flush_every(con: duckdb.DuckDBPyConnection, rows: int) -> Iterator[None]:
    """A partitioned COPY inside writes each partition's rows every `rows` rows: at DuckDB's
    default (524,288 per partition) a write spread over many days holds most of it twice."""
    con.execute(f"set partitioned_write_flush_threshold = {int(rows)}")
    try:
        yield
    finally:
        con.execute("reset partitioned_write_flush_threshold")


def sql_list(values: Iterable[str]) -> str:
    """A list of SQL string literals. Long lists go in as literals, not parameters: binding a
    Python list costs DuckDB ~75 microseconds per element (thousands of files per batch)."""
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


@cache
def _bundled_extension(name: str) -> str:
    """Path of a DuckDB extension shipped as a wheel (`duckdb-extension-<name>`): no download
    at run time, so it works offline."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    base = Path(module.__file__).parent
    found = sorted(base.rglob(f"{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"{name} extension not found under {base}")
    return str(found[0])


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    loaded = con.execute(
        "select count(*) from duckdb_extensions() where extension_name = ? and loaded", [name]
    ).fetchone()[0]
    if not loaded:
        con.execute(f"install {sql_string(_bundled_extension(name))}")
        con.execute(f"load {name}")


def enable_s3(con: duckdb.DuckDBPyConnection, profile: str | None = None) -> None:
    """Load httpfs and (re)create the S3 secret from the credentials boto3 resolves now.

    The secret is created in memory only (never persisted, never logged). Long runs call this
    again before each batch, so expiring temporary credentials are replaced in time.
    """
    load_extension(con, "httpfs")
    boto_session = session(profile)
    credentials = boto_session.get_credentials()
    options: dict[str, str] = {
        "region": boto_session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
    }
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options["key_id"] = frozen.access_key
        options["secret"] = frozen.secret_key
        if frozen.token:
            options["session_token"] = frozen.token
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint)
        options["endpoint"] = parsed.netloc or parsed.path
        options["url_style"] = "path"
        options["use_ssl"] = "true" if parsed.scheme == "https" else "false"
    rendered = ", ".join(f"{key} {sql_string(value)}" for key, value in options.items())
    try:
        con.execute(f"create or replace secret trailhouse_s3 (type s3, {rendered})")
    except duckdb.Error:
        # DuckDB may echo the statement in its message, and the statement holds credentials.
        raise RuntimeError("could not create the DuckDB S3 secret (details withheld)") from None
