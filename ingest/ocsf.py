"""OCSF records from the flat schema views.

The dbt views (`ocsf_detection_finding`, `ocsf_api_activity`, ...) name their columns by OCSF
path (`metadata.product.name`), because a flat view is what every engine and SQL client reads
alike. OCSF consumers (Amazon Security Lake's Parquet, OCSF JSON) want the objects nested:
`nest_table` turns a table's dotted columns into struct columns, `nest_dict` does the same to
one row as a dict, and `finding_dicts` gives Detection Findings as nested dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import duckdb
import pyarrow as pa

from ingest import triage
from ingest.lake import Lake

FINDING_VIEW = "ocsf_detection_finding"

# A finding's status is the alert's triage status where it has one (the dbt view only knows
# suppression): acknowledged → In Progress, closed → Resolved; Suppressed stays.
TRIAGED_FINDINGS = f"""
    select finding.* replace (
        case
            when finding.status_id = 3 then 3
            when triaged.status = 'acknowledged' then 2
            when triaged.status = 'closed' then 4
            else finding.status_id
        end as status_id,
        case
            when finding.status_id = 3 then finding.status
            when triaged.status = 'acknowledged' then 'In Progress'
            when triaged.status = 'closed' then 'Resolved'
            else finding.status
        end as status
    )
    from "{FINDING_VIEW}" as finding
    left join {triage.VIEW} as triaged on triaged.alert_id = finding."finding_info.uid"
"""

# name -> subtree (a dict) or column index (an int, a leaf)
_Tree = dict[str, "dict | int"]


def _tree(names: Iterable[str]) -> _Tree:
    """The object tree of dotted column names, in the order the names first appear."""
    root: _Tree = {}
    for index, name in enumerate(names):
        parts = name.split(".")
        if any(not part for part in parts):
            raise ValueError(f"not an OCSF path: {name!r}")
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            existing = node.get(part)
            if last:
                if existing is not None:
                    raise ValueError(f"{name!r} is both a field and an object (or repeated)")
                node[part] = index
            else:
                if isinstance(existing, int):
                    raise ValueError(
                        f"{'.'.join(parts[: depth + 1])!r} is both a field and an object"
                    )
                node = node.setdefault(part, {})
    return root


def _nest_arrays(tree: _Tree, columns: list[pa.Array]) -> tuple[list[str], list[pa.Array]]:
    names, arrays = [], []
    for name, node in tree.items():
        names.append(name)
        if isinstance(node, int):
            arrays.append(columns[node])
        else:
            child_names, child_arrays = _nest_arrays(node, columns)
            arrays.append(pa.StructArray.from_arrays(child_arrays, names=child_names))
    return names, arrays


def nest_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with its dotted columns (`metadata.product.name`) as nested structs
    (`metadata` → `product` → `name`). Objects keep the order their first field has; values
    are not copied. A name that is both a field and an object is a ValueError."""
    names, arrays = _nest_arrays(_tree(batch.schema.names), list(batch.columns))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def nest_table(table: pa.Table) -> pa.Table:
    """`nest_batch` for a table (any number of chunks, or none)."""
    combined = table.combine_chunks()
    columns = [
        column.chunk(0) if column.num_chunks else pa.array([], type=column.type)
        for column in combined.columns
    ]
    batch = pa.RecordBatch.from_arrays(columns, names=table.schema.names)
    return pa.Table.from_batches([nest_batch(batch)])


def _pruned(value: Any) -> Any:
    """OCSF JSON leaves absent attributes out: no nulls, no empty objects."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def nest_dict(row: dict[str, Any], drop_nulls: bool = True) -> dict[str, Any]:
    """One flat row (`{"metadata.product.name": ...}`) as a nested OCSF record. With
    `drop_nulls`, null attributes and objects left empty are omitted, as OCSF JSON does."""
    tree = _tree(row)
    values = list(row.values())

    def build(node: _Tree) -> dict[str, Any]:
        return {k: values[v] if isinstance(v, int) else build(v) for k, v in node.items()}

    nested = build(tree)
    return _pruned(nested) if drop_nulls else nested


def finding_dicts(
    con: duckdb.DuckDBPyConnection, alert_ids: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Detection Findings as nested dicts (OCSF JSON), from the `ocsf_detection_finding` view
    of `con` (ingest.query.register creates it) with the alerts' triage status: every finding,
    or those of `alert_ids` (bound, never SQL text), in time order."""
    sql = f"select * from ({TRIAGED_FINDINGS})"
    params: list[Any] = []
    if alert_ids is not None:
        sql += ' where "finding_info.uid" in (select unnest(?::varchar[]))'
        params.append(list(alert_ids))
    result = con.execute(sql + ' order by "time", "finding_info.uid"', params)
    names = [column[0] for column in result.description]
    while rows := result.fetchmany(1000):
        for row in rows:
            yield nest_dict(dict(zip(names, row, strict=True)))


class FindingsUnavailable(Exception):
    """The lake's findings cannot be read (the dbt views are not built)."""


def attach_findings(lake: Lake, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`alerts` with their Detection Finding as `ocsf_finding`, read when they are queued (the
    outbox then holds what is delivered, so a later rebuild of the views changes nothing)."""
    from ingest.duck import connect
    from ingest.query import dbt_database, register

    if not alerts:
        return []
    con = connect(lake)
    try:
        catalog = register(con, lake, dbt_database())
        if FINDING_VIEW not in catalog.views:
            raise FindingsUnavailable(f"the {FINDING_VIEW} view is not built: run `dbt build`")
        found = {
            finding["finding_info"]["uid"]: finding
            for finding in finding_dicts(con, [alert["alert_id"] for alert in alerts])
        }
    finally:
        con.close()
    missing = [alert["alert_id"] for alert in alerts if alert["alert_id"] not in found]
    if missing:
        raise FindingsUnavailable(
            f"{len(missing)} alert(s) have no finding in {FINDING_VIEW} (run `dbt build`)"
        )
    return [{**alert, "ocsf_finding": found[alert["alert_id"]]} for alert in alerts]
