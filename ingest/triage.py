"""Alert triage: who acknowledged, closed, reopened or suppressed which alert, kept in the lake.

`<lake>/alert_triage/triage_date=YYYY-MM-DD/<triage_id>.parquet` is append-only: every command
writes one new file (a unique name, written aside then renamed or PUT whole, through
`Lake.put_file`), and no file is ever rewritten, so a crash leaves no half-written file and
two analysts acting at once both land. An alert's current status is its last triage row
(`open` with no history); a closed alert that has had new events since (its `last_seen_at`
after the close, or more events than the close saw) reads as `open`, with the reason
`new events after close`. That is computed at read time, so the dbt `alerts` model and the
readers of a read-only lake need nothing written; the next command that changes such an alert
records an `auto_reopen` row first, so the history says why it was open again.

`current_sql` is the one definition of the status: `ingest alerts`, `ingest status` and the
`alerts_triaged` view of `ingest query` all read through it.
"""

from __future__ import annotations

import csv
import fcntl
import getpass
import io
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.duck import connect
from ingest.lake import Lake, UsageError

DATASET = "alert_triage"
VIEW = "alerts_triaged"
STATUSES = ("open", "acknowledged", "closed")
SEVERITIES = ("critical", "high", "medium", "low", "info")
REOPEN_REASON = "new events after close"
SYSTEM_ACTOR = "trailhouse"
SUPPRESSIONS_SEED = Path("seeds") / "detection_suppressions.csv"
SEED_COLUMNS = (
    "detection_id",
    "principal_pattern",
    "source_cidr",
    "account_id",
    "reason",
    "expires_at",
)
MAX_NOTE = 4000
MAX_NAME = 200

# action → (statuses it may start from, status it leads to); `assign` and `suppress` below.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "ack": (frozenset({"open"}), "acknowledged"),
    "close": (frozenset({"open", "acknowledged"}), "closed"),
    "reopen": (frozenset({"acknowledged", "closed"}), "open"),
}

_SCHEMA = pa.schema(
    [
        ("triage_id", pa.string()),
        ("alert_id", pa.string()),
        ("action", pa.string()),
        ("from_status", pa.string()),
        ("to_status", pa.string()),
        ("assignee", pa.string()),
        ("note", pa.string()),
        ("actor", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        # what the alert looked like when the row was written: a later event makes it differ
        ("seen_event_count", pa.int32()),
        ("seen_last_seen_at", pa.timestamp("us", tz="UTC")),
    ]
)
EMPTY_TRIAGE = (
    "select null::varchar as triage_id, null::varchar as alert_id, null::varchar as action, "
    "null::varchar as from_status, null::varchar as to_status, null::varchar as assignee, "
    'null::varchar as note, null::varchar as actor, null::timestamptz as "at", '
    "null::integer as seen_event_count, null::timestamptz as seen_last_seen_at where false"
)
# Control characters other than a line break: a suppression reason is a line of a CSV seed.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_GLOB = re.compile(r"[*?\[\]]")


class TriageError(Exception):
    """A triage command that cannot be done (unknown alert, a transition that changes
    nothing): exit code 1 with the message."""


def current_sql(alerts: str, triage: str) -> str:
    """Every alert of `alerts` (a relation) with its triage state from `triage` (a relation
    of the alert_triage columns): `status`, `status_reason`, `assignee`, `triaged_at`,
    `triaged_by`."""
    reopened = (
        "(t.to_status = 'closed' and not coalesce(a.suppressed, false) and "
        '(a.last_seen_at > t."at" or a.event_count > coalesce(t.seen_event_count, 0)))'
    )
    return f"""
        with last_triage as (
            select * from ({triage}) as history
            -- a row dated in the future (a forged file, a skewed clock) would win forever
            where "at" <= now() + interval 5 minute
            qualify row_number() over (partition by alert_id order by "at" desc, triage_id desc) = 1
        )
        select
            a.*,
            case when {reopened} then 'open' else coalesce(t.to_status, 'open') end as status,
            case when {reopened} then '{REOPEN_REASON}' end as status_reason,
            t.assignee,
            t."at" as triaged_at,
            t.actor as triaged_by
        from ({alerts}) as a
        left join last_triage as t on t.alert_id = a.alert_id
    """


def _parquet(lake: Lake, dataset: str) -> list[str]:
    return [
        lake.uri(key)
        for key, _ in lake.list(dataset)
        if key.endswith(".parquet") and "=" in key.split("/")[-2]
    ]


def relations(lake: Lake) -> tuple[str, str] | None:
    """(alerts, alert_triage) as relations over the lake's files; None before any alert."""
    from ingest.query import read_files

    alerts = _parquet(lake, "alerts")
    if not alerts:
        return None
    triage = _parquet(lake, DATASET)
    return (
        f"select * from {read_files(alerts)}",
        f"select * exclude (triage_date) from {read_files(triage)}" if triage else EMPTY_TRIAGE,
    )


class Triage:
    """The lake's alerts with their triage state, read once per command."""

    def __init__(self, lake: Lake, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.lake = lake
        self.con = con or connect(lake)
        found = relations(lake)
        if found is None:
            raise TriageError("no alerts in the lake yet: land logs, then run `dbt build`")
        alerts, triage = found
        self.con.execute(f"create or replace temp view triage_history as {triage}")
        self.con.execute(
            f"create or replace temp view {VIEW} as {current_sql(alerts, 'from triage_history')}"
        )

    def _dicts(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        result = self.con.execute(sql, params or [])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def list(
        self,
        status: str | None = None,
        severity: str | None = None,
        detection: str | None = None,
        limit: int | None = None,
        include_suppressed: bool = False,
    ) -> list[dict[str, Any]]:
        conditions, params = ["true"], []
        if not include_suppressed:
            conditions.append("not coalesce(suppressed, false)")
        for column, value in (("status", status), ("severity", severity)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        if detection is not None:
            conditions.append("detection_id = ?")
            params.append(detection)
        sql = (
            f"select * exclude (event_ids) from {VIEW} where {' and '.join(conditions)} "
            "order by last_seen_at desc, alert_id"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        return self._dicts(sql, params)

    def counts(self) -> dict[str, int]:
        """Unsuppressed alerts per status (every status, zero included)."""
        found = dict(
            self.con.execute(
                f"select status, count(*) from {VIEW} "
                "where not coalesce(suppressed, false) group by 1"
            ).fetchall()
        )
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def get(self, alert_id: str) -> dict[str, Any]:
        """The alert whose id is `alert_id` (or begins with it, 6 characters at least)."""
        rows = self._dicts(f"select * from {VIEW} where alert_id = ?", [alert_id])
        if not rows and len(alert_id) >= 6:
            rows = self._dicts(
                f"select * from {VIEW} where starts_with(alert_id, ?) order by alert_id limit 3",
                [alert_id],
            )
            if len(rows) > 1:
                raise TriageError(f"alert id prefix {alert_id!r} matches more than one alert")
        if not rows:
            raise TriageError(f"no alert with id {alert_id!r} (see `ingest alerts list`)")
        return rows[0]

    def history(self, alert_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            'select * from triage_history where alert_id = ? order by "at", triage_id', [alert_id]
        )


# -- writing ------------------------------------------------------------------------------------


def default_actor(given: str | None = None) -> str:
    if given:
        return given
    if os.environ.get("TRAILHOUSE_ACTOR"):
        return os.environ["TRAILHOUSE_ACTOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _checked(name: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise UsageError(f"{name} is longer than {limit} characters")
    return value


@dataclass(frozen=True)
class Row:
    alert_id: str
    action: str
    from_status: str
    to_status: str
    assignee: str | None
    note: str | None
    actor: str
    at: datetime
    seen_event_count: int | None
    seen_last_seen_at: datetime | None


def append(lake: Lake, rows: list[Row]) -> list[str]:
    """Write `rows` as one new file of the alert_triage dataset (never an existing one's
    name); returns their triage ids."""
    at = rows[0].at
    token = secrets.token_hex(8)
    # Sortable by time, then by position in the command (an auto_reopen before the action).
    ids = [f"{at:%Y%m%dT%H%M%S%fZ}-{i}-{token}" for i in range(len(rows))]
    columns: dict[str, list] = {name: [] for name in _SCHEMA.names}
    for triage_id, row in zip(ids, rows, strict=True):
        columns["triage_id"].append(triage_id)
        for name in _SCHEMA.names[1:]:
            columns[name].append(getattr(row, name))
    lake.ensure()
    local = lake.scratch / f"triage-{os.getpid()}-{token}.parquet"
    pq.write_table(pa.Table.from_pydict(columns, schema=_SCHEMA), local)
    lake.put_file(local, f"{DATASET}/triage_date={at:%Y-%m-%d}/{ids[0]}.parquet", move=True)
    return ids


def _auto_reopen(alert: dict[str, Any], at: datetime) -> Row | None:
    """The row that records an automatic reopening, when the alert reads as reopened."""
    if alert["status_reason"] != REOPEN_REASON:
        return None
    return Row(
        alert["alert_id"], "auto_reopen", "closed", "open", alert["assignee"], REOPEN_REASON,
        SYSTEM_ACTOR, at, alert["event_count"], alert["last_seen_at"],
    )  # fmt: skip


def act(
    lake: Lake,
    alert_id: str,
    action: str,
    *,
    note: str | None = None,
    assignee: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], Row]:
    """Apply `action` (ack, close, reopen, assign) to an alert: (the alert before, the row)."""
    note = _checked("--note", note, MAX_NOTE)
    assignee = _checked("--assignee", assignee, MAX_NAME)
    actor = _checked("--actor", default_actor(actor), MAX_NAME)
    alert = Triage(lake).get(alert_id)
    current = alert["status"]
    if action == "assign":
        if assignee is None:
            raise UsageError("assign needs --assignee NAME (an empty name unassigns)")
        target = current
        if (assignee or None) == alert["assignee"]:
            raise TriageError(f"alert {alert['alert_id']} is already assigned to that assignee")
    else:
        allowed, target = TRANSITIONS[action]
        if current == target:
            raise TriageError(f"alert {alert['alert_id']} is already {current}: nothing to do")
        if current not in allowed:
            raise TriageError(
                f"alert {alert['alert_id']} is {current}: `ingest alerts reopen` it first"
            )
    at = now or datetime.now(UTC)
    rows = [r for r in [_auto_reopen(alert, at)] if r]
    row = Row(
        alert["alert_id"], action, current, target,
        (assignee or None) if assignee is not None else alert["assignee"], note, actor, at,
        alert["event_count"], alert["last_seen_at"],
    )  # fmt: skip
    append(lake, [*rows, row])
    return alert, row


# -- suppressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppression:
    detection_id: str
    principal_pattern: str
    source_cidr: str
    account_id: str
    reason: str
    expires_at: str

    def as_row(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SEED_COLUMNS}


def suppression_for(
    alert: dict[str, Any],
    days: int,
    reason: str,
    *,
    source_cidr: str | None = None,
    any_source: bool = False,
    now: datetime | None = None,
) -> Suppression:
    """The seed row that suppresses what raised `alert`: its detection, for its principal
    (exact ARN), from its caller's address alone (a /32 or /128; `source_cidr` or
    `any_source` to widen), in its account, until `days` from now."""
    if days <= 0:
        raise UsageError("--days must be at least 1")
    reason = reason.strip()
    # what dbt's CSV reader (agate) loads as NULL, which the seed's not_null test refuses
    if reason.lower() in {"", "na", "n/a", "none", "null", "."}:
        raise UsageError("--reason must say why (a ticket, an owner)")
    if _CONTROL.search(reason):
        raise UsageError("--reason may not contain control characters (line breaks are fine)")
    if len(reason) > MAX_NOTE:
        raise UsageError(f"--reason is longer than {MAX_NOTE} characters")
    principal = alert.get("principal_arn") or ""
    if _GLOB.search(principal) or _CONTROL.search(principal):
        raise TriageError(
            "the alert's principal ARN has pattern characters: write the suppression by hand"
        )
    cidr = ""
    if source_cidr:
        try:
            cidr = str(ipaddress.ip_network(source_cidr, strict=False))
        except ValueError:
            raise UsageError(f"--source-cidr {source_cidr!r} is not a network") from None
    elif not any_source:
        try:
            address = ipaddress.ip_address(alert.get("source_ip_address") or "")
            cidr = f"{address}/{address.max_prefixlen}"
        except ValueError:
            cidr = ""  # a service name (`ec2.amazonaws.com`) or none: not an address
    if not principal and not cidr:
        raise TriageError(
            "the alert has neither a principal nor a source address: a suppression from it "
            "would silence the detection for everyone; write it by hand"
        )
    expires = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(days=days)
    return Suppression(
        detection_id=alert["detection_id"],
        principal_pattern=principal,
        source_cidr=cidr,
        account_id=alert.get("account_id") or "",
        reason=reason,
        expires_at=expires.strftime("%Y-%m-%d %H:%M:%S+00"),
    )


def check_seed(seed: Path, text: str | None = None) -> list[str]:
    """The suppressions seed's header, or a UsageError saying why it cannot take a row."""
    if not seed.is_file():
        raise UsageError(f"{seed} not found: run from the project root or pass --project")
    header = next(csv.reader(io.StringIO(text or seed.read_text(encoding="utf-8"))), [])
    if set(SEED_COLUMNS) - set(header):
        raise UsageError(f"{seed} does not have the columns {', '.join(SEED_COLUMNS)}")
    return header


def append_seed(seed: Path, suppression: Suppression) -> None:
    """Add a row to the suppressions seed atomically: the whole file is written aside and
    renamed over the old one, under a lock, so a reader or a concurrent `suppress` never sees
    (or loses) half of it."""
    check_seed(seed)
    directory = os.open(seed.parent, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        text = seed.read_text(encoding="utf-8")
        header = check_seed(seed, text)
        buffer = io.StringIO()
        buffer.write(text if text.endswith("\n") or not text else text + "\n")
        csv.DictWriter(buffer, fieldnames=header, lineterminator="\n").writerow(
            suppression.as_row()
        )
        aside = seed.parent / f".{seed.name}.{os.getpid()}-{secrets.token_hex(4)}"
        try:
            with aside.open("w", encoding="utf-8", newline="") as handle:
                handle.write(buffer.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(aside, seed.stat().st_mode & 0o777)
            os.replace(aside, seed)
        finally:
            aside.unlink(missing_ok=True)
        os.fsync(directory)
    finally:
        os.close(directory)  # releases the lock


def suppress(
    lake: Lake,
    project: Path,
    alert_id: str,
    days: int,
    reason: str,
    *,
    source_cidr: str | None = None,
    any_source: bool = False,
    actor: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], Suppression, Row]:
    """Suppress what raised an alert (a seed row), and close the alert with the reason."""
    actor = _checked("--actor", default_actor(actor), MAX_NAME)
    alert = Triage(lake).get(alert_id)
    at = now or datetime.now(UTC)
    suppression = suppression_for(
        alert, days, reason, source_cidr=source_cidr, any_source=any_source, now=at
    )
    check_seed(project / SUPPRESSIONS_SEED)
    rows = [r for r in [_auto_reopen(alert, at)] if r]
    row = Row(
        alert["alert_id"], "suppress", alert["status"], "closed", alert["assignee"],
        f"suppressed until {suppression.expires_at}: {suppression.reason}", actor, at,
        alert["event_count"], alert["last_seen_at"],
    )  # fmt: skip
    # The history first: should the seed then fail, the alert is closed without a suppression
    # and its next events reopen it; the other order could hide activity with no record of who.
    append(lake, [*rows, row])
    try:
        append_seed(project / SUPPRESSIONS_SEED, suppression)
    except OSError as exc:
        raise TriageError(
            f"the alert is closed, but the suppression could not be written to "
            f"{SUPPRESSIONS_SEED}: {exc.strerror or exc}; fix that and run the command again"
        ) from None
    return alert, suppression, row
