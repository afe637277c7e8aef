"""The durable outbox of `ingest watch`: alerts waiting for the webhook, kept in the lake.

An alert is written to `<lake>/_state/watch/outbox/` before the watcher's ledger marks it as
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

OUTBOX = "_state/watch/outbox"
UNDELIVERED = "_state/watch/undelivered"


def _name(alert: dict[str, Any], version: str) -> str:
    """A file name per alert version: listed in the order of the alerts' last activity (so a
    later version of an alert is sent after an earlier one), and the same name when a
    restarted watcher queues the same version again (so it is not duplicated). Built from
    digits and a digest, never from the (lake-sourced) alert id itself."""
    latest = re.sub(r"\D", "", str(alert.get("last_seen_at") or ""))[:20].ljust(20, "0")
    count = alert.get("event_count")
    count = count if isinstance(count, int) and 0 <= count < 10**12 else 0
    digest = hashlib.sha256(f"{alert['alert_id']}|{version}".encode()).hexdigest()[:32]
    return f"{latest}-{count:012d}-{digest}.json"


class Outbox:
    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def add(self, alert: dict[str, Any], version: str) -> str:
        key = f"{OUTBOX}/{_name(alert, version)}"
        self.lake.put_bytes(orjson.dumps(alert, default=str), key)
        return key

    def pending(self) -> list[str]:
        return [key for key, _ in self.lake.list(OUTBOX) if key.endswith(".json")]

    def undelivered(self) -> list[str]:
        return [key for key, _ in self.lake.list(UNDELIVERED) if key.endswith(".json")]

    def body(self, key: str) -> bytes | None:
        return self.lake.get_bytes(key)

    def delivered(self, key: str) -> None:
        self.lake.delete(key)

    def refused(self, key: str, body: bytes, destination: str, error: str) -> None:
        """Move an alert to `undelivered/` (written there before it leaves the outbox)."""
        kept = {
            "alert": orjson.loads(body),
            "destination": destination,
            "error": error,
            "failed_at": datetime.now(UTC).isoformat(),
        }
        self.lake.put_bytes(orjson.dumps(kept), f"{UNDELIVERED}/{key.rsplit('/', 1)[1]}")
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
            self.lake.put_bytes(orjson.dumps(alert), f"{OUTBOX}/{key.rsplit('/', 1)[1]}")
            self.lake.delete(key)
            moved += 1
        return moved
