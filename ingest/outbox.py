"""The durable outbox of alert delivery: alerts waiting for a destination, kept in the lake.

Every destination has its own outbox (`<lake>/_state/watch/destinations/<name>/outbox/`; the
`watch.webhook` / `--webhook` destination keeps the original `<lake>/_state/watch/outbox/`), so
one destination that is down never holds up or loses another's alerts. A file holds the alert,
never the destination's URL or key: those are resolved from the environment at send time.
An alert is written to its outbox before the destination's ledger marks it as
sent, and its file is deleted only when the receiver acknowledged it (2xx). So a kill, a slow
receiver or a crash in the sender loses nothing: the next start delivers what the outbox still
holds (at least once; a receiver may see an alert twice after a kill, never zero times).
An alert the receiver refused (a 4xx other than 429, a redirect) moves to
`_state/watch/undelivered/` with the reason and the destination (redacted: the URL is a
secret); `ingest status` counts them and `ingest watch --retry-undelivered` sends them again.
A receiver that cannot be reached is tried again every cycle: its alerts stay in the outbox,
however long the outage. One that answers 5xx/429 to an alert is tried again every cycle
while the other alerts go out; after FAILED_PASSES cycles that alert joins the refused ones.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from ingest.lake import Lake

STATE = "_state/watch"
OUTBOX = f"{STATE}/outbox"
UNDELIVERED = f"{STATE}/undelivered"
DESTINATIONS = f"{STATE}/destinations"
LEGACY = "webhook"  # the name of `watch.webhook` / `--webhook`, whose files are in STATE itself


def _name(alert: dict[str, Any], version: str) -> str:
    """A file name per alert version: listed in the order of the alerts' last activity (so a
    later version of an alert is sent after an earlier one), and the same name when a
    restarted watcher queues the same version again (so it is not duplicated). Built from
    digits and a digest, never from the (lake-sourced) alert id itself."""
    # The later of its last event and its last triage (a close after the last event sorts a
    # PagerDuty resolve after the trigger of the same events).
    latest = max(
        re.sub(r"\D", "", str(alert.get(column) or ""))[:20].ljust(20, "0")
        for column in ("last_seen_at", "triaged_at")
    )
    count = alert.get("event_count")
    count = count if isinstance(count, int) and 0 <= count < 10**12 else 0
    digest = hashlib.sha256(f"{alert['alert_id']}|{version}".encode()).hexdigest()[:32]
    return f"{latest}-{count:012d}-{digest}.json"


def state_root(name: str) -> str:
    """Where destination `name` keeps its outbox, undelivered alerts and ledger (`name` is
    checked against the config's name pattern before it gets here)."""
    return STATE if name == LEGACY else f"{DESTINATIONS}/{name}"


class Outbox:
    def __init__(self, lake: Lake, root: str = STATE) -> None:
        self.lake = lake
        self.outbox = f"{root}/outbox"
        self.undelivered_dir = f"{root}/undelivered"

    def add(self, alert: dict[str, Any], version: str) -> str:
        key = f"{self.outbox}/{_name(alert, version)}"
        self.lake.put_bytes(orjson.dumps(alert, default=str), key)
        return key

    def pending(self) -> list[str]:
        return [key for key, _ in self.lake.list(self.outbox) if key.endswith(".json")]

    def undelivered(self) -> list[str]:
        return [key for key, _ in self.lake.list(self.undelivered_dir) if key.endswith(".json")]

    def body(self, key: str) -> bytes | None:
        return self.lake.get_bytes(key)

    def delivered(self, key: str) -> None:
        self.lake.delete(key)

    def refused(self, key: str, body: bytes, destination: str, error: str, endpoint: str) -> None:
        """Move an alert to `undelivered/` (written there before it leaves the outbox);
        `endpoint` is already redacted."""
        kept = {
            "alert": orjson.loads(body),
            "destination": destination,
            "endpoint": endpoint,
            "error": error,
            "failed_at": datetime.now(UTC).isoformat(),
        }
        self.lake.put_bytes(orjson.dumps(kept), f"{self.undelivered_dir}/{key.rsplit('/', 1)[1]}")
        self.lake.delete(key)

    def retry_undelivered(self) -> int:
        """Put every undelivered alert back in the outbox; how many."""
        moved = 0
        for key in self.undelivered():
            data = self.lake.get_bytes(key)
            if data is None:
                continue  # another process moved it first
            alert = orjson.loads(data).get("alert")
            if not isinstance(alert, dict):
                continue  # not ours to judge: left where it is for a person to read
            self.lake.put_bytes(orjson.dumps(alert), f"{self.outbox}/{key.rsplit('/', 1)[1]}")
            self.lake.delete(key)
            moved += 1
        return moved


def counts(lake: Lake) -> dict[str, dict[str, int]]:
    """Destination name → alerts in its outbox and undelivered, from one listing of the lake's
    delivery state (a destination no longer configured still shows what it holds)."""
    found: dict[str, dict[str, int]] = {}
    for key, _ in lake.list(STATE):
        parts = key[len(STATE) + 1 :].split("/")
        if not key.endswith(".json"):
            continue
        if len(parts) == 2:
            name, kind = LEGACY, parts[0]
        elif len(parts) == 4 and parts[0] == "destinations":
            name, kind = parts[1], parts[2]
        else:
            continue
        if kind in ("outbox", "undelivered"):
            entry = found.setdefault(name, {"outbox": 0, "undelivered": 0})
            entry[kind] += 1
    return dict(sorted(found.items()))
