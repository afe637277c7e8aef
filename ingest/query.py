"""`ingest query`: SQL over the lake without dbt.

Every dataset under the lake root (`cloudtrail_events`, `alerts`, `http_access_log`,
`alert_triage`, ...) is a view over its hive-partitioned Parquet; with `--from/--to` the view
lists only the files of the partitions in range, so no other partition is even opened (the
triage history excepted: alerts in range may have been triaged before it). `alerts_triaged` is
`alerts` with each alert's triage `status`, `status_reason` and `assignee` (ingest.triage).
The dbt views (`events`, `events_ecs`, `ocsf_*`, the detections) are re-created from the dbt
database's own definitions on top of those dataset views, so they see the same time range, and
the dbt database is not kept open (a running `dbt build` is never blocked).

`analyses/<name>.sql` files are dbt analyses: `{{ ref('x') }}` and `{{ var('k', default) }}` are
rendered here with plain Jinja (`--var k=v`); a line `-- requires: --var k=...` marks a var
the analysis cannot do without.
"""

from __future__ import annotations

import csv
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any

import duckdb
import jinja2
import orjson

from ingest import triage
from ingest.duck import load_extension, sql_string
from ingest.lake import Lake
from ingest.timerange import TimeRange

OUTPUTS = ("table", "csv", "json", "jsonl", "parquet")
_DATASET = re.compile(r"[a-z][a-z0-9_]*")
_PARTITION = re.compile(r"^([a-z_]+)=[^/]+$")


@dataclass
class Catalog:
    datasets: dict[str, dict[str, list[str]]]  # name → partition value → files
    views: list[str]
    skipped_views: dict[str, str]


def dataset_files(con: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, dict[str, list[str]]]:
    """Lake datasets (top-level folders of hive partitions) → partition value → files. A folder
    becomes a view of that name, so only names dbt itself gives datasets (lowercase letters,
    digits, `_`) count: whoever can write the lake does not name SQL."""
    found: dict[str, dict[str, list[str]]] = {}
    pattern = sql_string(lake.uri("*/*=*/*.parquet"))
    for (file,) in con.execute(f"select file from glob({pattern}) order by 1").fetchall():
        name, partition = PurePosixPath(file).parts[-3:-1]
        if (
            _PARTITION.match(partition)
            and _DATASET.fullmatch(name)
            and not name.startswith(("_", "landing"))
        ):
            value = partition.split("=", 1)[1]
            found.setdefault(name, {}).setdefault(value, []).append(file)
    return found


def read_files(files: list[str]) -> str:
    """A relation reading exactly these Parquet files (with their hive partition column)."""
    return f"read_parquet([{', '.join(sql_string(f) for f in files)}], hive_partitioning = true)"


def point_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: list[str],
    schema_from: str,
    condition: str = "true",
) -> None:
    """Make view `name` read exactly `files` (the rows meeting `condition`); with none, no
    rows (columns of `schema_from`)."""
    con.execute(
        f'create or replace view "{name}" as select * from '
        f"{read_files(files or [schema_from])} where {condition if files else 'false'}"
    )


def _has_column(con: duckdb.DuckDBPyConnection, file: str, column: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from parquet_schema(?) where name = ?", [file, column]
        ).fetchone()[0]
    )


def register(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    dbt_database: Path | None,
    span: TimeRange | None = None,
) -> Catalog:
    """Create a view per lake dataset and re-create the dbt views over them. With a time
    range, a dataset's view lists only the files of the partitions in range, so the others
    are never opened, and, when the range is not whole days, keeps only the rows whose
    `event_time` is inside it."""
    load_extension(con, "inet")  # the shell views classify IP addresses
    span = span or TimeRange()
    datasets = dataset_files(con, lake)
    low = (span.first_day or date.min).isoformat()
    high = (span.last_day or date.max).isoformat()
    for name, partitions in sorted(datasets.items()):
        files = [f for value, fs in partitions.items() if low <= value[:10] <= high for f in fs]
        if name == triage.DATASET:
            # the triage of alerts in range may be older than the range: all of it, always
            files = [f for fs in partitions.values() for f in fs]
        first = next(iter(partitions.values()))[0]
        condition = "true"
        if not span.whole_days and _has_column(con, first, "event_time"):
            condition = span.condition("event_time")
        point_view(con, name, files, schema_from=first, condition=condition)
    views, skipped = _dbt_views(con, dbt_database, set(datasets))
    if "alerts" in datasets:
        history = triage.EMPTY_TRIAGE
        if triage.DATASET in datasets:
            history = f"select * exclude (triage_date) from {triage.DATASET}"
        triaged = triage.current_sql("select * from alerts", history)
        con.execute(f"create or replace view {triage.VIEW} as {triaged}")
        views = sorted([*views, triage.VIEW])
    if "custom_logs" in datasets:
        views += _custom_format_views(con)
    return Catalog(datasets, views, skipped)


def _custom_format_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`custom_<format>`: the format's lines with one column per field (from the config)."""
    from ingest.config import default_path
    from ingest.sources.custom_format import field_names, load_formats

    try:
        formats = load_formats(default_path())
    except ValueError:
        return []
    created = []
    for name, spec in formats.items():
        columns = "".join(
            f', json_extract_string(fields, {sql_string("$." + f)}) as "{f}"'
            for f in field_names(spec)
        )
        con.execute(
            f'create or replace view "custom_{name}" as select event_id, event_time, event_date'
            f"{columns}, raw, source_object from custom_logs "
            f"where log_format = {sql_string(name)}"
        )
        created.append(f"custom_{name}")
    return created


def _dbt_views(
    con: duckdb.DuckDBPyConnection, database: Path | None, datasets: set[str]
) -> tuple[list[str], dict[str, str]]:
    if database is None or not database.exists():
        return [], {}
    catalog = database.stem
    try:
        con.execute(f"attach {sql_string(str(database))} as dbt_catalog (read_only)")
    except duckdb.Error as exc:
        return [], {"*": f"the dbt database is in use ({str(exc).splitlines()[0]})"}
    try:
        rows = con.execute(
            "select view_name, sql from duckdb_views() "
            "where database_name = 'dbt_catalog' and schema_name = 'main' and not internal"
        ).fetchall()
        # the seeds (inventory, rules) the views read: small tables, copied
        for (table,) in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = 'dbt_catalog' and schema_name = 'main'"
        ).fetchall():
            if table not in datasets:
                con.execute(
                    f'create or replace table "{table}" as select * from dbt_catalog.main."{table}"'
                )
    finally:
        con.execute("detach dbt_catalog")
    qualifier = re.compile(rf'(?:"{re.escape(catalog)}"|\b{re.escape(catalog)})\."?main"?\.')
    pending = {name: qualifier.sub("", sql) for name, sql in rows if name not in datasets}
    created: list[str] = []
    errors: dict[str, str] = {}
    # Views depend on each other: create in passes until nothing more can be created.
    while pending:
        progress = False
        for name, sql in list(pending.items()):
            try:
                con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
            except duckdb.Error as exc:
                errors[name] = str(exc).splitlines()[0]
                continue
            created.append(name)
            errors.pop(name, None)
            del pending[name]
            progress = True
        if not progress:
            break
    return sorted(created), {n: errors[n] for n in pending}


# -- analyses -----------------------------------------------------------------------------------

_REQUIRES = re.compile(r"--\s*requires:\s*--var\s+(\w+)=")


def dbt_database() -> Path:
    """The DuckDB file dbt builds into (profiles.yml reads the same variable)."""
    return Path(os.environ.get("TRAILHOUSE_DB", "trailhouse.duckdb"))


def analyses_dir(project: Path) -> Path:
    return project / "analyses"


def list_analyses(project: Path) -> list[str]:
    return sorted(p.stem for p in analyses_dir(project).glob("*.sql"))


def resolve_query(text: str, project: Path) -> tuple[str, str | None]:
    """(SQL template, analysis name): a file path, an analysis name, or SQL itself."""
    candidate = Path(text)
    named = analyses_dir(project) / f"{text.removeprefix('analyses/').removesuffix('.sql')}.sql"
    if "\n" not in text and len(text) < 300:
        if named.is_file():
            return named.read_text(), named.stem
        if candidate.suffix == ".sql" and candidate.is_file():
            return candidate.read_text(), candidate.stem
    return text, None


def render(template: str, variables: dict[str, str]) -> str:
    """Render the `ref` / `var` Jinja of an analysis (plain SQL passes through unchanged)."""
    missing = [name for name in _REQUIRES.findall(template) if name not in variables]
    if missing:
        raise ValueError("this analysis needs " + ", ".join(f"--var {m}=..." for m in missing))
    if "{{" not in template and "{%" not in template:
        return template

    def var(name: str, default: Any = None) -> Any:
        return variables.get(name, default)

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    # `sql_string` is the quoting macro the analyses call on every value: dbt's on dbt's side,
    # the same quoting here, so a value (a principal's ARN from the lake) is never SQL.
    return environment.from_string(template).render(
        ref=lambda name: f'"{name}"',
        var=var,
        source=lambda _s, name: f'"{name}"',
        sql_string=lambda value: sql_string(str(value)),
    )


# -- output -------------------------------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def to_json(row: dict[str, Any]) -> bytes:
    """One result row as a JSON object (the encoding of every JSON output and of replay)."""
    return orjson.dumps(row, default=_default)


def _batches(result: duckdb.DuckDBPyConnection, size: int = 10_000) -> Iterator[list[tuple]]:
    while rows := result.fetchmany(size):
        yield rows


def write(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    output: str,
    stream: IO[str],
    out_path: Path | None = None,
) -> tuple[list[str], list[tuple]] | int:
    """Run `sql` and write it as `output`. `table` returns (columns, rows) for the caller to
    draw; the others stream and return the row count."""
    if output == "parquet":
        if out_path is None:
            raise ValueError("--output parquet needs --out FILE")
        copied = con.execute(f"copy ({sql}) to {sql_string(str(out_path))} (format parquet)")
        return copied.fetchone()[0]  # COPY answers with the number of rows it wrote
    result = con.execute(sql)
    columns = [d[0] for d in result.description] if result.description else []
    if output == "table":
        return columns, result.fetchall()
    target = out_path.open("w", newline="") if out_path else stream
    count = 0
    try:
        if output == "csv":
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(columns)
            for rows in _batches(result):
                writer.writerows(rows)
                count += len(rows)
        elif output == "jsonl":
            for rows in _batches(result):
                for row in rows:
                    target.write(to_json(dict(zip(columns, row, strict=True))).decode() + "\n")
                count += len(rows)
        elif output == "json":
            target.write("[")
            for rows in _batches(result):
                for row in rows:
                    target.write(("," if count else "") + "\n  ")
                    target.write(to_json(dict(zip(columns, row, strict=True))).decode())
                    count += 1
            target.write("\n]\n" if count else "]\n")
        else:
            raise ValueError(f"unknown output {output!r}: {', '.join(OUTPUTS)}")
    finally:
        if out_path:
            target.close()
    return count


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
