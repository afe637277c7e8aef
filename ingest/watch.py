"""`ingest watch cloudtrail`: pull, build, and send each new or changed alert.

Every `interval` seconds: pull new objects (bucket listing or SQS), and when anything landed
or the landing zone is ahead of the last successful build, run the incremental `dbt build`
(the whole project the first time, then the lake and what depends on it; unit tests excluded:
they do not change with data); then compare `alerts` with the ledger of what was sent
(`<lake>/_state/watch/sent.parquet`: alert id and version) and send what is new or grew.
On its first run against an existing lake, the alerts already there are recorded as sent
unless `--send-existing`.

Destinations: stdout and a file (JSON lines, written in the loop) and an HTTP webhook, fed
through the durable outbox (`ingest.outbox`): an alert is in the outbox before the ledger
records it, and leaves it only when the receiver acknowledged it, so delivery is at least once
across kills, slow receivers and crashes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.console import err, shown
from ingest.delivery import DeliveryError, post, redacted
from ingest.duck import sql_string
from ingest.lake import Lake
from ingest.lease import Lease, tied_to_this_process, writing
from ingest.outbox import Outbox
from ingest.pull import PullSummary

LEDGER_KEY = "_state/watch/sent.parquet"
_LEDGER_SCHEMA = pa.schema([("alert_id", pa.string()), ("version", pa.string())])


def alert_version(alert: dict[str, Any]) -> str:
    """What makes an alert "updated": more events, a later last event, a new suppression."""
    return f"{alert['event_count']}|{alert['last_seen_at']}|{alert.get('suppressed')}"


class Ledger:
    """The alerts already sent, by id and version, kept in the lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        data = lake.get_bytes(LEDGER_KEY)
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
        local = self.lake.scratch / f"watch-ledger-{os.getpid()}.parquet"
        pq.write_table(table, local)
        self.lake.put_file(local, LEDGER_KEY, move=True)
        self.exists = True


def read_alerts(con: duckdb.DuckDBPyConnection, lake: Lake) -> list[dict[str, Any]]:
    pattern = lake.uri("alerts/*/*.parquet")
    if not con.execute(f"select count(*) from glob({sql_string(pattern)})").fetchone()[0]:
        return []
    result = con.execute(
        f"select * from read_parquet({sql_string(pattern)}, hive_partitioning = true) "
        "order by first_seen_at, alert_id"
    )
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def landing_ahead(con: duckdb.DuckDBPyConnection, lake: Lake) -> bool:
    """Whether CloudTrail landed after the newest input the last successful build of
    `cloudtrail_events` recorded (its state is written only when a build succeeds)."""
    landing = lake.uri("landing/cloudtrail/*/*.parquet")
    if not con.execute(f"select count(*) from glob({sql_string(landing)})").fetchone()[0]:
        return False
    state = lake.uri("_state/dbt/cloudtrail_events.parquet")
    pattern = lake.uri("_state/dbt/*.parquet")
    if not con.execute(
        f"select count(*) from glob({sql_string(pattern)}) where file = ?", [state]
    ).fetchone()[0]:
        return True
    (ahead,) = con.execute(
        f"select (select max(landed_at) from read_parquet({sql_string(landing)})) > "
        f"(select max(high_mark) from read_parquet({sql_string(state)}))"
    ).fetchone()
    return bool(ahead)


def delivery_latency(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    alerts: list[dict[str, Any]],
    delivered_at: dict[str, datetime],
    now: datetime,
) -> float | None:
    """Seconds from the S3 delivery of the newest object behind each sent alert to now (the
    worst of them); None when no sent alert came from an object pulled in this cycle."""
    if not alerts or not delivered_at:
        return None
    ids = [event_id for alert in alerts for event_id in alert["event_ids"]]
    rows = con.execute(
        f"select distinct source_object from read_parquet("
        f"{sql_string(lake.uri('cloudtrail_events/*/*.parquet'))}) where event_id in "
        f"(select unnest(?::varchar[]))",
        [ids],
    ).fetchall()
    times = [delivered_at[s] for (s,) in rows if s in delivered_at]
    return max((now - t).total_seconds() for t in times) if times else None


# Cycles a receiver may answer 5xx/429 to one alert before it joins the refused ones.
FAILED_PASSES = 10


class Webhook:
    """Delivers the outbox from a background thread, so a slow or failing receiver never holds
    up pulling and building. Woken by every cycle; `close` drains it for a bounded time, and
    whatever is left stays in the outbox for the next start."""

    def __init__(self, url: str, outbox: Outbox, attempts: int = 5, backoff: float = 1.0) -> None:
        self.url, self.outbox, self.attempts, self.backoff = url, outbox, attempts, backoff
        self.delivered = 0
        self.failed = 0
        self.errors: list[str] = []  # unexpected failures; the alert stays in the outbox
        self._failures: dict[str, int] = {}  # outbox key → cycles the receiver failed it
        self._wake = threading.Event()
        self._closing = False
        self._wake.set()  # what a previous run left in the outbox goes first
        self.thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            for key in self._pending():
                if not self._deliver(key):
                    break  # the receiver is down: the rest waits for the next cycle
            if self._closing:
                return

    def _pending(self) -> list[str]:
        try:
            return self.outbox.pending()
        except Exception as exc:  # the lake unreachable for a moment: next wake tries again
            self.errors.append(f"webhook: cannot list the outbox: {type(exc).__name__}: {exc}")
            return []

    def _deliver(self, key: str) -> bool:
        """Deliver one alert; False when the receiver could not be reached (try later)."""
        try:
            body = self.outbox.body(key)
            if body is None:
                return True  # delivered meanwhile by another watcher on this lake
            try:
                post(self.url, body, attempts=self.attempts, backoff=self.backoff)
            except DeliveryError as exc:
                if exc.answered and not exc.refused:
                    # The receiver is up but fails this alert: the others still go out, and
                    # an alert it keeps failing ends in undelivered/ like a refusal.
                    self._failures[key] = self._failures.get(key, 0) + 1
                    if self._failures[key] < FAILED_PASSES:
                        self.errors.append(f"webhook: {exc} (kept in the outbox)")
                        return True
                    exc = DeliveryError(f"{exc} ({FAILED_PASSES} cycles)", refused=True)
                if not exc.refused:
                    self.errors.append(f"webhook: {exc} (kept in the outbox, retried next cycle)")
                    return False
                self.outbox.refused(key, body, redacted(self.url), str(exc))
                self._failures.pop(key, None)
                self.failed += 1
                return True
            self.outbox.delivered(key)
            self._failures.pop(key, None)
            self.delivered += 1
        except Exception as exc:  # never the end of the thread: the alert waits in the outbox
            message = str(exc).replace(self.url, redacted(self.url))
            self.errors.append(f"webhook: {type(exc).__name__}: {message} (kept in the outbox)")
        return True

    def take_errors(self) -> list[str]:
        taken = []
        while self.errors:  # list.pop is atomic: the thread may append meanwhile
            taken.append(self.errors.pop(0))
        return taken

    def close(self, timeout: float = 30.0) -> None:
        self._closing = True
        self._wake.set()
        self.thread.join(timeout)


@dataclass
class CycleReport:
    objects: int = 0
    records: int = 0
    built: bool = False
    build_seconds: float = 0.0
    sent: int = 0
    latency: float | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Watcher:
    lake: Lake
    con: duckdb.DuckDBPyConnection
    pull: Callable[[], Any]  # → PullSummary
    project: Path
    streams: list[IO[bytes]]
    webhook: Webhook | None = None
    send_existing: bool = False
    dbt: str = "dbt"
    build_timeout: float = 3600.0  # seconds; a hung build must not stall the loop for good
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.built_once = False
        self.ledger = Ledger(self.lake)
        if not self.ledger.exists and not self.send_existing:
            self.ledger.record(read_alerts(self.con, self.lake))  # the baseline is not news
            self.ledger.save()

    def build(self, lease: Lease | None = None) -> tuple[bool, str]:
        """Run the dbt build under `lease` (in its own process group); stop it when it runs past
        `build_timeout` or the lease is lost, so it never writes beside another writer."""
        # The first build of a run is the whole project (seeds and views may be missing or
        # stale); later ones only the lake and what depends on it.
        command = [self.dbt, "build", "--exclude", "resource_type:unit_test"]
        if self.built_once:
            command += ["--select", "cloudtrail_events+"]
        log = self.lake.scratch / f"watch-build-{os.getpid()}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.build_timeout
        with log.open("w+") as output:
            process = subprocess.Popen(
                tied_to_this_process(command), cwd=self.project, stdout=output,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
                env=lease.child_env() if lease else None,
            )  # fmt: skip
            stopped = None
            while process.poll() is None:
                if time.monotonic() > deadline:
                    stopped = f"timed out after {self.build_timeout:g} s"
                elif lease is not None and not lease.valid():
                    stopped = "stopped: the lake's lease was lost"
                if stopped:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    return False, f"dbt build {stopped} (retried next cycle)"
                time.sleep(0.2)
            output.seek(0)
            text = output.read()[-2000:]
        log.unlink(missing_ok=True)
        self.built_once = self.built_once or process.returncode == 0
        return process.returncode == 0, text

    def cycle(self) -> CycleReport:
        """One pull, build and send, holding the lake's write lease throughout (the dbt build
        works under it; a pull or build started by hand meanwhile waits for the cycle)."""
        with writing(self.lake, "ingest watch") as lease:
            return self._cycle(lease)

    def _cycle(self, lease: Lease) -> CycleReport:
        report = CycleReport()
        # Read again under the lease: another watcher on this lake may have sent since.
        self.ledger = Ledger(self.lake)
        try:
            summary = self.pull()
        except Exception as exc:  # S3/SQS/STS down for a while: log it, try again next cycle
            report.errors.append(f"pull failed (retried next cycle): {type(exc).__name__}: {exc}")
            summary = PullSummary()
        report.objects, report.records = summary.landing.landed, summary.landing.records
        report.errors += [f"{uri}: {reason}" for uri, reason in summary.failed]
        report.errors += summary.warnings
        # Build when this cycle landed records, and whenever the landing zone is ahead of the
        # last successful build: a failed or interrupted build, a restart after a kill.
        if report.records or landing_ahead(self.con, self.lake):
            started = datetime.now(UTC)
            ok, log = self.build(lease)
            report.built, report.build_seconds = ok, (datetime.now(UTC) - started).total_seconds()
            if not ok:
                report.errors.append("dbt build failed:\n" + log)
                return report  # alerts stay as they were; the next cycle retries
        changed = self.ledger.changed(read_alerts(self.con, self.lake))
        for alert in changed:
            line = orjson.dumps(alert, default=str) + b"\n"
            for stream in self.streams:
                stream.write(line)
                stream.flush()
            if self.webhook:
                # In the outbox before the ledger says "sent": a kill between the two queues
                # the same file again, never loses the alert.
                self.webhook.outbox.add(alert, alert_version(alert))
        self.ledger.record(changed)
        if changed:
            self.ledger.save()
        if self.webhook:
            self.webhook.wake()
            report.errors += self.webhook.take_errors()
        report.sent = len(changed)
        report.latency = delivery_latency(
            self.con, self.lake, changed, summary.delivered_at, self.clock()
        )
        return report

    def run(self, interval: float, cycles: int | None, stop: threading.Event) -> bool:
        """Cycle every `interval` seconds until `stop` (or `cycles` cycles), printing one
        status line per cycle and every error on stderr; whether any cycle had an error. A
        daemon logs what went wrong and carries on."""
        failed = False
        done = 0
        while not stop.is_set():
            try:
                report = self.cycle()
            except Exception as exc:
                report = CycleReport(errors=[f"cycle failed: {type(exc).__name__}: {exc}"])
            done += 1
            latency = f"{report.latency:.1f} s" if report.latency is not None else "—"
            sender = self.webhook
            err.print(
                f"{datetime.now(UTC):%H:%M:%S} +{report.objects} object(s), "
                f"+{report.records:,} record(s)"
                + (f", built in {report.build_seconds:.1f} s" if report.built else "")
                + f", {report.sent} alert(s) sent, delivery→alert latency {latency}"
                + (f", webhook {sender.delivered} ok / {sender.failed} failed" if sender else "")
            )
            for error in report.errors:
                failed = True
                err.print(f"[red]error:[/] {shown(error)}")
            if cycles and done >= cycles:
                break
            stop.wait(interval)
        return failed
