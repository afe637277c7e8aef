"""`ingest status`: what the lake holds — landing state per source, the datasets dbt wrote,
each collection's last run, alert delivery, alerts per triage status, and the alerts not
closed."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
from rich.table import Table

from ingest import outbox, state, triage
from ingest.collections import read_outcomes
from ingest.console import human_bytes, out, shown
from ingest.duck import connect, sql_string
from ingest.lake import Lake

# Lake datasets from the contract, in the order a reader meets them.
DATASETS = ("cloudtrail_events", "alerts", "http_access_log", "custom_logs", "alert_triage")
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
    """Alerts not closed (and not suppressed) per severity and detection, most severe first,
    with how many are acknowledged and who they are assigned to."""
    found = triage.relations(lake)
    if found is None:
        return []
    return con.execute(
        f"""
        select
            severity, detection_id, any_value(title), count(*), max(last_seen_at),
            count(*) filter (where status = 'acknowledged'),
            list_sort(list_distinct(list(assignee)))
        from ({triage.current_sql(*found)})
        where not suppressed and status <> 'closed'
        group by severity, detection_id
        order by
            list_position(['critical', 'high', 'medium', 'low', 'info'], severity),
            count(*) desc,
            detection_id
        """
    ).fetchall()


def triage_counts(lake: Lake, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Unsuppressed alerts per triage status (`ingest alerts`), none before any alert."""
    try:
        return triage.Triage(lake, con).counts()
    except triage.TriageError:
        return {}


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


def delivery_stats(per_destination: dict[str, dict[str, int]]) -> dict[str, int]:
    """Alerts still to be delivered, and those a destination refused, all destinations
    together (`ingest.outbox.counts` has them one by one)."""
    return {
        kind: sum(c[kind] for c in per_destination.values()) for kind in ("outbox", "undelivered")
    }


def show(lake: Lake, as_json: bool) -> None:
    """`ingest status`: the tables (or, with `as_json`, one JSON document) of the lake."""
    con = connect(lake)
    landing = {source: landing_stats(lake, con, source) for source in LANDING_SOURCES}
    datasets = {name: dataset_stats(lake, con, name) for name in DATASETS}
    if datasets["alert_triage"] is None:
        del datasets["alert_triage"]  # written by `ingest alerts`, not built: absent until used
    alerts = alert_stats(lake, con)
    triaged = triage_counts(lake, con)
    events_by_collection = collection_events(lake, con)
    per_destination = outbox.counts(lake)
    delivery = delivery_stats(per_destination)
    con.close()
    runs = read_outcomes(lake)
    now = datetime.now(UTC)
    for run in runs:
        run["events_in_lake"] = events_by_collection.get(run["name"], 0)
        last = run.get("last_success_at")
        run["lag_seconds"] = (now - datetime.fromisoformat(last)).total_seconds() if last else None

    if as_json:
        payload = {
            "lake": lake.url,
            "landing": {
                source: [
                    {
                        "status": s,
                        "inputs": n,
                        "records": int(r or 0),
                        "bytes": int(b or 0),
                        "last_at": last.isoformat() if last else None,
                    }
                    for s, n, r, b, last in rows
                ]
                for source, rows in landing.items()
            },
            "datasets": {
                name: dataclasses.asdict(stats) if stats else None
                for name, stats in datasets.items()
            },
            "collections": runs,
            "alert_delivery": delivery,
            "alert_delivery_by_destination": per_destination,
            "alerts_by_status": triaged,
            "open_alerts": [
                {
                    "severity": severity,
                    "detection_id": detection,
                    "title": title,
                    "alerts": count,
                    "acknowledged": acknowledged,
                    "assignees": assignees,
                    "last_seen_at": last.isoformat() if last else None,
                }
                for severity, detection, title, count, last, acknowledged, assignees in alerts
            ],
        }
        out.print_json(json.dumps(payload))
        return

    out.print(f"[bold]Lake[/] {lake.url}")
    table = Table(title="Landing", title_justify="left")
    for column in ("source", "status", "inputs", "records", "bytes", "last"):
        table.add_column(
            column, justify="right" if column in {"inputs", "records", "bytes"} else "left"
        )
    for source, rows in landing.items():
        for state_name, inputs, records, size, last in rows:
            table.add_row(
                source,
                state_name,
                f"{inputs:,}",
                f"{int(records or 0):,}",
                human_bytes(size or 0),
                f"{last:%Y-%m-%d %H:%M}" if last else "",
            )
    if table.row_count:
        out.print(table)
    else:
        out.print(
            "Nothing landed yet: run [bold]ingest demo[/] or [bold]ingest load cloudtrail PATH[/]."
        )

    table = Table(title="Datasets", title_justify="left")
    for column in ("dataset", "rows", "partitions", "files", "size", "range"):
        table.add_column(
            column,
            justify="left" if column in {"dataset", "range"} else "right",
            no_wrap=column in {"dataset", "range"},
        )
    for name, stats in datasets.items():
        if stats is None:
            table.add_row(name, "—", "", "", "", "not built")
            continue
        table.add_row(
            name,
            f"{stats.rows:,}",
            str(stats.partitions),
            str(stats.files),
            human_bytes(stats.size_bytes),
            f"{stats.first_partition} … {stats.last_partition}",
        )
    out.print(table)

    if runs:
        table = Table(title="Collections (last run)", title_justify="left")
        for column in ("collection", "type", "run", "objects", "records", "bytes",
                       "events in lake", "last success", "lag", "error"):  # fmt: skip
            table.add_column(column, overflow="fold")
        for run in runs:
            lag = run["lag_seconds"]
            table.add_row(
                run["name"], run["type"], "[green]ok[/]" if run["ok"] else "[red]failed[/]",
                f"{run['objects']:,}", f"{run['records']:,}", human_bytes(run["bytes_read"]),
                f"{run['events_in_lake']:,}", (run.get("last_success_at") or "never")[:16],
                f"{lag / 60:,.0f} min" if lag is not None else "—", shown(run.get("error")),
            )  # fmt: skip
        out.print(table)

    if triaged:
        out.print(
            f"[bold]Alert triage[/] {triaged['open']:,} open · {triaged['acknowledged']:,} "
            f"acknowledged · {triaged['closed']:,} closed (`ingest alerts list`)"
        )
    if alerts:
        table = Table(title="Open alerts", title_justify="left")
        for column in ("severity", "detection", "alerts", "acknowledged", "assignees", "last seen"):
            table.add_column(
                column, justify="right" if column in ("alerts", "acknowledged") else "left"
            )
        colors = {"critical": "bold red", "high": "red", "medium": "yellow"}
        for severity, _detection, title, count, last, acknowledged, assignees in alerts:
            color = colors.get(severity, "")
            table.add_row(
                f"[{color}]{shown(severity)}[/]" if color else shown(severity),
                shown(title),
                str(count),
                str(acknowledged) if acknowledged else "",
                shown(", ".join(assignees)),
                f"{last:%Y-%m-%d %H:%M}" if last else "",
            )
        out.print(table)

    if delivery["outbox"] or delivery["undelivered"]:
        out.print(
            f"[bold]Alert delivery[/] {delivery['outbox']:,} waiting in the outbox (sent by the "
            f"running or next `ingest watch` / `ingest alerts send`) · "
            + (
                f"[red]{delivery['undelivered']:,} undelivered[/] (refused by a destination: "
                "`ingest watch --retry-undelivered` or `ingest alerts send --retry-undelivered` "
                "sends them again)"
                if delivery["undelivered"]
                else "0 undelivered"
            )
        )
        for name, counts in per_destination.items():
            if counts["outbox"] or counts["undelivered"]:
                out.print(
                    f"  {shown(name)}: {counts['outbox']:,} in the outbox, "
                    f"{counts['undelivered']:,} undelivered"
                )
