"""Landing state kept in the lake: which inputs were landed, skipped or quarantined.

Each landing batch writes one small Parquet file under `<lake>/_state/<source>/inputs/`, so
several machines pointed at the same lake see the same history and never clobber each other.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.lake import Lake

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


def inputs_prefix(source: str) -> str:
    return f"_state/{source}/inputs"


def write_batch(lake: Lake, source: str, batch_id: str, rows: Iterable[InputRecord]) -> None:
    """Write one batch's input records atomically (write aside, then rename or PUT)."""
    rows = list(rows)
    if not rows:
        return
    local = lake.scratch / f"state-{source}-{batch_id}-{os.getpid()}.parquet"
    local.parent.mkdir(parents=True, exist_ok=True)
    columns = {name: [getattr(r, name) for r in rows] for name in _SCHEMA.names}
    table = pa.Table.from_pydict(columns, schema=_SCHEMA)
    pq.write_table(table, local)
    lake.put_file(local, f"{inputs_prefix(source)}/{batch_id}.parquet", move=True)


def _glob(lake: Lake, source: str) -> str | None:
    if not any(key.endswith(".parquet") for key, _ in lake.list(inputs_prefix(source))):
        return None
    return lake.uri(f"{inputs_prefix(source)}/*.parquet")


def delivery_day(source_object: str) -> str:
    """The `YYYY/MM/DD` folder of a delivered object ('' when its path has none)."""
    match = _DAY.search(source_object)
    return match.group(1) if match else ""


_DAY = re.compile(r"/(\d{4}/\d{2}/\d{2})/")


def seen(
    lake: Lake, source: str, con: duckdb.DuckDBPyConnection, days: Iterable[str]
) -> set[tuple[str, str]]:
    """(source_object, fingerprint) pairs already handled among inputs of the given delivery
    days (see `delivery_day`), so memory follows the days being collected, not the lake."""
    pattern = _glob(lake, source)
    if pattern is None:
        return set()
    rows = con.execute(
        f"""
        select distinct source_object, fingerprint
        from read_parquet(?)
        where coalesce(regexp_extract(source_object, '{_DAY.pattern}', 1), '') in ?
        """,
        [pattern, list(days)],
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


class KnownInputs:
    """The inputs (source object, fingerprint) a source's landing has handled, by any run on
    this lake: read per delivery day on first use, so memory follows the days in play, not
    the lake's age; and the recording of new ones. The one lookup CloudTrail and the line
    formats both land through."""

    def __init__(self, lake: Lake, source: str, con: duckdb.DuckDBPyConnection) -> None:
        self.lake, self.source, self.con = lake, source, con
        self._by_day: dict[str, set[tuple[str, str]]] = {}

    def preload(self, days: Iterable[str]) -> None:
        """Read what is known for these delivery days (`YYYY/MM/DD`) in one pass."""
        missing = set(days) - self._by_day.keys()
        if not missing:
            return
        for day in missing:
            self._by_day[day] = set()
        for source_object, fingerprint in seen(self.lake, self.source, self.con, missing):
            self._by_day[delivery_day(source_object)].add((source_object, fingerprint))

    def __contains__(self, identity: tuple[str, str]) -> bool:
        day = delivery_day(identity[0])
        self.preload([day])
        return identity in self._by_day[day]

    def record(self, batch_id: str, rows: list[InputRecord]) -> None:
        """Write what a batch did with its inputs; they are known from now on."""
        if not rows:
            return
        write_batch(self.lake, self.source, batch_id, rows)
        for row in rows:
            day = delivery_day(row.source_object)
            self._by_day.setdefault(day, set()).add((row.source_object, row.fingerprint))


# -- collection cursors ----------------------------------------------------------------------
# For each collected folder (an S3 account/region prefix), the last day known to be fully
# collected. The next run lists from that day on; `--from` can always reach further back.


def _cursor_key(source: str, collection: str) -> str:
    digest = hashlib.sha256(collection.encode()).hexdigest()[:24]
    return f"_state/{source}/cursors/{digest}.json"


def read_cursors(lake: Lake, source: str, collection: str) -> dict[str, date]:
    raw = lake.get_bytes(_cursor_key(source, collection))
    if raw is None:
        return {}
    document = orjson.loads(raw)
    return {leaf: date.fromisoformat(day) for leaf, day in document["leaves"].items()}


def write_cursors(lake: Lake, source: str, collection: str, cursors: dict[str, date]) -> None:
    document = {
        "collection": collection,
        "updated_at": datetime.now(UTC).isoformat(),
        "leaves": {leaf: day.isoformat() for leaf, day in sorted(cursors.items())},
    }
    lake.put_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2), _cursor_key(source, collection)
    )


# -- objects the store refuses -----------------------------------------------------------------
# An object that S3 keeps refusing (AccessDenied, gone, archived) would pin its day's cursor
# forever. Each refusal is counted here, one small file per object. Once an object has been
# refused REFUSALS_ALLOWED times over at least REFUSAL_HOURS, it is set aside: quarantined with
# the reason and reported, its cursor moves on, but it is not recorded as landed, so a backfill
# (`--from`) after access is restored collects it. A brief denial (a key disabled for minutes,
# a policy changed and reverted) never sets anything aside.

REFUSALS_ALLOWED = 3
REFUSAL_HOURS = 24


def refusal_key(source: str, uri: str) -> str:
    digest = hashlib.sha256(uri.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f"_state/{source}/refusals/{digest}.json"


def refusal_keys(lake: Lake, source: str) -> set[str]:
    """The state keys of every object with refusals on record (one listing per pull; compare
    with `refusal_key`)."""
    return {key for key, _ in lake.list(f"_state/{source}/refusals")}


def count_refusal(lake: Lake, source: str, uri: str, error: str) -> dict:
    """Record one more refusal of `uri`; its record (attempts, first_at, last_at, error)."""
    key = refusal_key(source, uri)
    raw = lake.get_bytes(key)
    now = datetime.now(UTC).isoformat()
    document = orjson.loads(raw) if raw else {"uri": uri, "attempts": 0, "first_at": now}
    document.update(attempts=document["attempts"] + 1, last_at=now, error=error)
    lake.put_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2), key)
    return document


def set_aside(refusal: dict) -> bool:
    """Whether an object refused like this no longer holds its day back."""
    first = datetime.fromisoformat(refusal["first_at"])
    return refusal["attempts"] >= REFUSALS_ALLOWED and datetime.now(UTC) - first >= timedelta(
        hours=REFUSAL_HOURS
    )


def clear_refusal(lake: Lake, source: str, uri: str) -> None:
    lake.delete(refusal_key(source, uri))
