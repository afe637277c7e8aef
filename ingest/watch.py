"""`ingest watch cloudtrail`: pull, build, and send each new or changed alert.

Every `interval` seconds: pull new objects (bucket listing or SQS), and when anything landed
or the landing zone is ahead of the last successful build, run the incremental `dbt build`
(the whole project the first time, then the lake and what depends on it; unit tests excluded:
they do not change with data); then compare `alerts` with the ledger of what was sent
(`<lake>/_state/watch/sent.parquet`: alert id and version) and send what is new or grew.
On its first run against an existing lake, the alerts already there are recorded as sent
unless `--send-existing`.

Destinations: stdout and a file (JSON lines, written in the loop), and the destinations of the
config (`ingest.destinations`: webhooks, Slack, PagerDuty; `watch.webhook` / `--webhook` is one
of them), each routed by `ingest.routing` through its own durable outbox (`ingest.outbox`): an
alert is in a destination's outbox before its ledger records it, and leaves it only when the
receiver acknowledged it, so delivery is at least once across kills, slow receivers and
crashes, and one destination down never holds up another.
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

from ingest.console import err, shown
from ingest.duck import sql_string
from ingest.lake import Lake
from ingest.lease import Lease, tied_to_this_process, writing
from ingest.pull import PullSummary
from ingest.routing import Ledger, Sender, current_alerts, route


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
    senders: list[Sender] = field(default_factory=list)  # one per destination
    send_existing: bool = False
    dbt: str = "dbt"
    build_timeout: float = 3600.0  # seconds; a hung build must not stall the loop for good
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.built_once = False
        self.ledger = Ledger(self.lake)
        if not self.send_existing:
            # the baseline is not news: the alerts already there when the stream or a
            # destination is new (no ledger yet) are recorded as sent
            alerts = current_alerts(self.con, self.lake)
            if not self.ledger.exists:
                self.ledger.record(alerts)
                self.ledger.save()
            route(self.lake, [s.route for s in self.senders], alerts, baseline=True)

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
        alerts = current_alerts(self.con, self.lake)
        changed = self.ledger.changed(alerts)
        for alert in changed:
            line = orjson.dumps(alert, default=str) + b"\n"
            for stream in self.streams:
                stream.write(line)
                stream.flush()
        self.ledger.record(changed)
        if changed:
            self.ledger.save()
        # each destination gets what its filters match and it has not had: in its outbox
        # before its ledger says "sent" (a kill between the two queues the file again)
        for routed in route(self.lake, [s.route for s in self.senders], alerts):
            if routed.error:
                report.errors.append(f"{routed.destination.name}: {routed.error}")
        for sender in self.senders:
            sender.wake()
            report.errors += sender.take_errors()
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
            err.print(
                f"{datetime.now(UTC):%H:%M:%S} +{report.objects} object(s), "
                f"+{report.records:,} record(s)"
                + (f", built in {report.build_seconds:.1f} s" if report.built else "")
                + f", {report.sent} alert(s) sent, delivery→alert latency {latency}"
                + "".join(f", {s.name} {s.delivered} ok / {s.failed} failed" for s in self.senders)
            )
            for error in report.errors:
                failed = True
                err.print(f"[red]error:[/] {shown(error)}")
            if cycles and done >= cycles:
                break
            stop.wait(interval)
        return failed
