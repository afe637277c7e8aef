"""Routing alerts to destinations: one code path for `ingest watch` and `ingest alerts send`.

For each destination: the alerts its filters match, less the versions its ledger says it has
already queued (`<lake>/_state/watch/destinations/<name>/sent.parquet`), go into its own
outbox (`ingest.outbox`) before the ledger records them; a `Sender` then delivers the outbox
(a background thread under `ingest watch`, one pass under `ingest alerts send`) and removes a
file only when the destination acknowledged it. So one destination that is down or refuses
keeps its own alerts (outbox / undelivered) while the others deliver, and a rerun sends nothing
twice. Callers hold the lake's write lease while routing (the ledgers are rewritten).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.delivery import DeliveryError
from ingest.destinations import FORMATS, NAME, Destination
from ingest.lake import Lake
from ingest.outbox import DESTINATIONS, Outbox, state_root

LEDGER_KEY = "_state/watch/sent.parquet"  # what `ingest watch` printed (stdout, --out)
_LEDGER_SCHEMA = pa.schema([("alert_id", pa.string()), ("version", pa.string())])
# Cycles a receiver may answer 5xx/429 to one alert before it joins the refused ones.
FAILED_PASSES = 10


def alert_version(alert: dict[str, Any]) -> str:
    """What makes an alert "updated": more events, a later last event, a new suppression."""
    return f"{alert['event_count']}|{alert['last_seen_at']}|{alert.get('suppressed')}"


class Ledger:
    """The alerts already sent (or queued), by id and version, kept in the lake."""

    def __init__(self, lake: Lake, key: str = LEDGER_KEY) -> None:
        self.lake, self.key = lake, key
        data = lake.get_bytes(key)
        self.exists = data is not None
        self.sent: dict[str, str] = {}
        if data is not None:
            table = pq.read_table(pa.BufferReader(data))
            self.sent = dict(zip(table["alert_id"].to_pylist(), table["version"].to_pylist(),
                                 strict=True))  # fmt: skip

    def changed(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in alerts if self.sent.get(a["alert_id"]) != alert_version(a)]

    def record(self, alerts: list[dict[str, Any]]) -> None:
        for alert in alerts:
            self.sent[alert["alert_id"]] = alert_version(alert)

    def save(self) -> None:
        table = pa.table(
            {"alert_id": list(self.sent), "version": list(self.sent.values())},
            schema=_LEDGER_SCHEMA,
        )
        local = self.lake.scratch / f"watch-ledger-{os.getpid()}-{threading.get_ident()}.parquet"
        pq.write_table(table, local)
        self.lake.put_file(local, self.key, move=True)
        self.exists = True


def current_alerts(con: duckdb.DuckDBPyConnection, lake: Lake) -> list[dict[str, Any]]:
    """Every alert of the lake with its triage status (`ingest.triage.current_sql`: status,
    status_reason, assignee, triaged_at, triaged_by), oldest first; [] before any alert."""
    from ingest.triage import current_sql, relations

    found = relations(lake)
    if found is None:
        return []
    result = con.execute(f"select * from ({current_sql(*found)}) order by first_seen_at, alert_id")
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


# -- routing ----------------------------------------------------------------------------------


@dataclass
class Route:
    """A destination with its outbox and ledger in the lake."""

    destination: Destination
    outbox: Outbox
    ledger_key: str

    @classmethod
    def of(cls, lake: Lake, destination: Destination) -> Route:
        # `watch.webhook`'s outbox is `_state/watch/outbox` (what older versions left there
        # is delivered); its ledger is beside the others' (`_state/watch/sent.parquet` is the
        # ledger of what `ingest watch` prints)
        if not NAME.fullmatch(destination.name):  # it becomes a path in the lake
            raise ValueError(f"not a destination name: {destination.name!r}")
        ledger = f"{DESTINATIONS}/{destination.name}/sent.parquet"
        return cls(destination, Outbox(lake, state_root(destination.name)), ledger)

    @property
    def name(self) -> str:
        return self.destination.name

    def version(self, alert: dict[str, Any]) -> str:
        extra = FORMATS[self.destination.type].extra_version(alert)
        return alert_version(alert) + (f"|{extra}" if extra else "")


@dataclass
class Routed:
    """What routing did for one destination."""

    destination: Destination
    matched: int = 0  # alerts its filters let through
    already: int = 0  # versions it had already queued (or, for a first watch, the baseline)
    skipped: int = 0  # not news for this type (a closed alert for Slack, ...)
    queued: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def route(
    lake: Lake,
    routes: Iterable[Route],
    alerts: list[dict[str, Any]],
    *,
    baseline: bool = False,
    dry_run: bool = False,
) -> list[Routed]:
    """Queue in each route's outbox the versions of `alerts` it has not queued before. With
    `baseline` (a watch starting without --send-existing), nothing is queued: a route without
    a ledger yet records the alerts as sent (they are not news to it). The outbox file is
    written before the ledger: a crash between the two queues the same file name again, never
    loses the alert."""
    results = []
    for item in routes:
        result = Routed(item.destination)
        results.append(result)
        matching = [a for a in alerts if item.destination.matches(a)]
        result.matched = len(matching)
        spec = FORMATS[item.destination.type]
        ledger = Ledger(lake, item.ledger_key)
        if baseline:
            if not ledger.exists:
                ledger.sent.update({a["alert_id"]: item.version(a) for a in matching})
                result.already = len(matching)
                if not dry_run:
                    ledger.save()
            continue  # the next cycle queues what is new
        for alert in matching:
            previous = ledger.sent.get(alert["alert_id"])
            if previous == item.version(alert):
                result.already += 1
            elif not spec.wanted(alert, previous is not None):
                result.skipped += 1
            else:
                result.queued.append(alert)
        if not result.queued or dry_run:
            continue
        try:
            queued = spec.prepare(lake, result.queued) if spec.prepare else result.queued
        except Exception as exc:  # nothing queued or recorded: the next run tries again
            result.error = f"{type(exc).__name__}: {exc}"
            result.queued = []
            continue
        for alert in queued:
            item.outbox.add(alert, item.version(alert))
            ledger.sent[alert["alert_id"]] = item.version(alert)
        ledger.save()
    return results


# -- delivering -------------------------------------------------------------------------------


class Sender:
    """Delivers one destination's outbox. With `background`, from a thread woken by every
    watch cycle, so a slow or failing receiver never holds up pulling and building; `close`
    drains it for a bounded time, and whatever is left stays in the outbox for the next start.
    Without, `deliver_pending()` is one pass (`ingest alerts send`)."""

    def __init__(
        self,
        route: Route,
        attempts: int = 5,
        backoff: float = 1.0,
        background: bool = True,
    ) -> None:
        self.route, self.attempts, self.backoff = route, attempts, backoff
        self.outbox = route.outbox
        self.delivered = 0
        self.failed = 0
        self.reachable = True  # False after a pass the receiver could not be reached in
        self.errors: list[str] = []  # unexpected failures; the alert stays in the outbox
        self._failures: dict[str, int] = {}  # outbox key → passes the receiver failed it
        self._wake = threading.Event()
        self._closing = False
        self.thread: threading.Thread | None = None
        if background:
            self._wake.set()  # what a previous run left in the outbox goes first
            self.thread = threading.Thread(target=self._run, name=f"send-{route.name}",
                                           daemon=True)  # fmt: skip
            self.thread.start()

    @property
    def destination(self) -> Destination:
        return self.route.destination

    @property
    def name(self) -> str:
        return self.route.name

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.deliver_pending()
            if self._closing:
                return

    def deliver_pending(self) -> None:
        """One pass over the outbox, oldest first; stops at a receiver that cannot be reached
        (the rest waits for the next pass)."""
        self.reachable = True
        for key in self._pending():
            if not self._deliver(key):
                self.reachable = False
                break

    def _pending(self) -> list[str]:
        try:
            return self.outbox.pending()
        except Exception as exc:  # the lake unreachable for a moment: next wake tries again
            self.errors.append(f"{self.name}: cannot list the outbox: {type(exc).__name__}: {exc}")
            return []

    def _hide(self, text: str) -> str:
        """`text` with the destination's secrets replaced (an exception may quote a URL)."""
        if self.destination.endpoint:
            text = text.replace(self.destination.endpoint, self.destination.shown)
        if self.destination.routing_key:
            text = text.replace(self.destination.routing_key, "[routing key]")
        return text

    def _deliver(self, key: str) -> bool:
        """Deliver one alert; False when the receiver could not be reached (try later)."""
        name = self.name
        try:
            body = self.outbox.body(key)
            if body is None:
                return True  # delivered meanwhile by another sender on this lake
            spec = FORMATS[self.destination.type]
            payload = spec.render(self.destination, orjson.loads(body))
            try:
                spec.deliver(self.destination, payload, self.attempts, self.backoff)
            except DeliveryError as exc:
                if exc.answered and not exc.refused:
                    # The receiver is up but fails this alert: the others still go out, and
                    # an alert it keeps failing ends in undelivered/ like a refusal.
                    self._failures[key] = self._failures.get(key, 0) + 1
                    if self._failures[key] < FAILED_PASSES or self.thread is None:
                        self.errors.append(f"{name}: {self._hide(str(exc))} (kept in the outbox)")
                        return True
                    exc = DeliveryError(f"{exc} ({FAILED_PASSES} cycles)", refused=True)
                if not exc.refused:
                    self.errors.append(
                        f"{name}: {self._hide(str(exc))} (kept in the outbox, retried next cycle)"
                    )
                    return False
                self.outbox.refused(key, body, name, self._hide(str(exc)), self.destination.shown)
                self._failures.pop(key, None)
                self.failed += 1
                return True
            self.outbox.delivered(key)
            self._failures.pop(key, None)
            self.delivered += 1
        except Exception as exc:  # never the end of the thread: the alert waits in the outbox
            message = self._hide(str(exc))
            self.errors.append(f"{name}: {type(exc).__name__}: {message} (kept in the outbox)")
        return True

    def take_errors(self) -> list[str]:
        taken = []
        while self.errors:  # list.pop is atomic: the thread may append meanwhile
            taken.append(self.errors.pop(0))
        return taken

    def close(self, timeout: float = 30.0) -> None:
        if self.thread is None:
            return
        self._closing = True
        self._wake.set()
        self.thread.join(timeout)


# -- `ingest alerts send` ---------------------------------------------------------------------


@dataclass
class Sent:
    """What `send` did for one destination."""

    routed: Routed
    delivered: int = 0
    refused: int = 0
    waiting: int = 0  # left in its outbox (receiver down, 5xx): the next send or watch retries
    undelivered: int = 0  # refused, now or before (`--retry-undelivered` queues them again)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.errors or self.refused or self.waiting)


def send(
    lake: Lake,
    routes: list[Route],
    alerts: list[dict[str, Any]],
    *,
    dry_run: bool = False,
    attempts: int = 3,
    backoff: float = 0.5,
) -> list[Sent]:
    """Route `alerts` to `routes` (under the lake's write lease: the ledgers are rewritten)
    and deliver each route's outbox once, what earlier runs left in it included. With
    `dry_run`, only what would be queued: nothing is written or sent."""
    from ingest.lease import writing

    if dry_run:
        routed = route(lake, routes, alerts, dry_run=True)
    else:
        with writing(lake, "ingest alerts send"):
            routed = route(lake, routes, alerts)
    results = []
    for item, done in zip(routes, routed, strict=True):
        result = Sent(done)
        results.append(result)
        if done.error:
            result.errors.append(done.error)
        elif not dry_run:
            sender = Sender(item, attempts, backoff, background=False)
            sender.deliver_pending()
            result.delivered, result.refused = sender.delivered, sender.failed
            result.errors += sender.take_errors()
        if not dry_run:
            result.waiting = len(item.outbox.pending())
            result.undelivered = len(item.outbox.undelivered())
    return results
