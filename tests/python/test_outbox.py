"""The watch outbox: webhook alerts wait in the lake until the receiver acknowledges them.

A real local lake and a real loopback receiver; the sender is the production thread. A refused
alert is kept in `undelivered/` with the URL redacted and comes back with
`--retry-undelivered`'s `retry_undelivered`; a fault inside the sender keeps the alert and the
thread. (The kill of a running `ingest watch` with a slow receiver is in test_watch.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import destinations, routing
from ingest.lake import Lake
from ingest.outbox import Outbox
from ingest.routing import Route, Sender, alert_version

from conftest import Received, Workspace, invoke


def alert(n: int, events: int = 1) -> dict:
    return {
        "alert_id": f"alert-{n}",
        "detection_id": "aws-cloudtrail-tampering",
        "event_count": events,
        "first_seen_at": f"2026-11-2{n % 10}T10:00:00+00:00",
        "last_seen_at": f"2026-11-2{n % 10}T10:05:00+00:00",
        "suppressed": False,
        "event_ids": [f"event-{n}"],
    }


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    lake = Lake.at(str(tmp_path / "lake"))
    lake.ensure()
    return Outbox(lake)


def webhook_sender(url: str, outbox: Outbox, **options) -> Sender:
    """The sender of `watch.webhook` (the destination `webhook`, whose outbox is `outbox`)."""
    route = Route(destinations.webhook(url), outbox, "_state/watch/ledger.parquet")
    return Sender(route, **options)


def reported(sender: Sender, timeout: float = 5.0) -> list[str]:
    """The errors the sender thread reports, once it has reported some (or `timeout`)."""
    errors: list[str] = []
    for _ in range(int(timeout / 0.05)):
        errors += sender.take_errors()
        if errors:
            break
        sender.thread.join(0.05)
    return errors


def queue(outbox: Outbox, *alerts: dict) -> None:
    for item in alerts:
        outbox.add(item, alert_version(item))


def test_the_webhook_delivers_the_outbox_and_only_acknowledged_alerts_leave_it(
    outbox: Outbox, receiver: Received
) -> None:
    queue(outbox, alert(1), alert(2), alert(3))
    queue(outbox, alert(2))  # queued again after a restart: still one file
    assert len(outbox.pending()) == 3
    receiver.statuses = [503]  # the first answer is a transient failure, retried
    sender = webhook_sender(receiver.url, outbox, backoff=0.01)
    assert receiver.wait_for(3, 30)
    sender.close()
    assert sorted(a["alert_id"] for a in receiver.json()) == ["alert-1", "alert-2", "alert-3"]
    assert outbox.pending() == [] and outbox.undelivered() == []
    assert sender.delivered == 3 and sender.failed == 0


def test_a_refused_alert_is_kept_redacted_counted_by_status_and_sent_again_on_retry(
    outbox: Outbox, receiver: Received, tmp_path: Path
) -> None:
    url = receiver.url + "/T000/B000/s3cr3t-token"  # a Slack-shaped URL: the path is the secret
    receiver.statuses = [400]
    queue(outbox, alert(1))
    sender = webhook_sender(url, outbox, backoff=0.01)
    assert receiver.wait_for_refusals(1, 30)
    sender.close()
    assert outbox.pending() == [] and len(outbox.undelivered()) == 1
    raw = outbox.lake.get_bytes(outbox.undelivered()[0])
    assert b"s3cr3t" not in raw
    kept = json.loads(raw)
    assert kept["alert"]["alert_id"] == "alert-1" and "HTTP 400" in kept["error"]
    assert kept["destination"] == "webhook"
    assert kept["endpoint"].startswith("http://127.0.0.1:") and "/hook" not in raw.decode()

    ws = Workspace.create(tmp_path)
    ws.env["TRAILHOUSE_LAKE"] = outbox.lake.url
    status = json.loads(invoke(ws, "status", "--json").output)
    assert status["alert_delivery"] == {"outbox": 0, "undelivered": 1}
    assert "1 undelivered" in invoke(ws, "status").output

    assert outbox.retry_undelivered() == 1
    sender = webhook_sender(url, outbox, backoff=0.01)
    assert receiver.wait_for(1, 30)
    sender.close()
    assert receiver.json()[0]["alert_id"] == "alert-1"
    assert outbox.pending() == [] and outbox.undelivered() == []


def test_a_fault_inside_the_sender_keeps_the_alert_and_the_thread(
    outbox: Outbox, receiver: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lake refuses the delete after a delivery (a permissions change, a network blip):
    the alert stays in the outbox (sent again later: at least once), the error is reported,
    and the thread goes on delivering."""
    real = Outbox.delivered
    faults = iter([OSError("lake write refused")])

    def flaky(self: Outbox, key: str) -> None:
        fault = next(faults, None)
        if fault:
            raise fault
        real(self, key)

    monkeypatch.setattr(Outbox, "delivered", flaky)
    queue(outbox, alert(1))
    sender = webhook_sender(receiver.url, outbox, backoff=0.01)
    assert receiver.wait_for(1, 30)
    errors = reported(sender)
    assert errors and "lake write refused" in errors[0] and "kept in the outbox" in errors[0]
    assert len(outbox.pending()) == 1 and sender.thread.is_alive()
    queue(outbox, alert(2))
    sender.wake()  # the next cycle
    assert receiver.wait_for(3, 30)
    sender.close()
    assert sorted(a["alert_id"] for a in receiver.json()) == ["alert-1", "alert-1", "alert-2"]
    assert outbox.pending() == []


def test_retry_leaves_what_is_not_an_alert_where_it_is(outbox: Outbox) -> None:
    outbox.lake.put_bytes(b'{"note": "hand-written"}', "_state/watch/undelivered/odd.json")
    assert outbox.retry_undelivered() == 0
    assert outbox.undelivered() == ["_state/watch/undelivered/odd.json"]


def test_an_unreachable_receiver_keeps_alerts_in_the_outbox_until_it_is_back(
    outbox: Outbox, receiver: Received
) -> None:
    """No answer after the retries is an outage, not a refusal: nothing moves to undelivered/,
    the pass stops (no hammering a receiver that is down), and a later cycle delivers."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # nobody listens there
    queue(outbox, alert(1), alert(2))
    sender = webhook_sender(down, outbox, attempts=2, backoff=0.01)
    errors = reported(sender)
    assert "unreachable after 2 attempts" in errors[0] and "retried next cycle" in errors[0]
    assert len(errors) == 1  # the second alert was not tried against a receiver that is down
    assert len(outbox.pending()) == 2 and outbox.undelivered() == []
    sender.route.destination = destinations.webhook(receiver.url)  # the receiver is back
    sender.wake()  # the next cycle
    assert receiver.wait_for(2, 30)
    sender.close()
    assert outbox.pending() == [] and outbox.undelivered() == []


def test_an_alert_the_receiver_keeps_failing_does_not_hold_up_the_others(
    outbox: Outbox, receiver: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receiver that answers 500 to one alert (its contents trip it up) still gets every
    other alert; after FAILED_PASSES cycles the failing one joins the refused."""
    monkeypatch.setattr(routing, "FAILED_PASSES", 3)
    poison = alert(1)
    poison["detection_id"] = "aws-poison-" + "\u202e" * 4
    receiver.fails_on = b"aws-poison-"
    queue(outbox, poison, alert(2), alert(3))
    sender = webhook_sender(receiver.url, outbox, attempts=1, backoff=0.01)
    assert receiver.wait_for(2, 30)
    for _ in range(2):  # two more cycles
        before = receiver.refused
        sender.wake()
        assert receiver.wait_for_refusals(before + 1, 30)
    sender.close()
    assert sorted(a["alert_id"] for a in receiver.json()) == ["alert-2", "alert-3"]
    assert outbox.pending() == [] and len(outbox.undelivered()) == 1
    kept = json.loads(outbox.lake.get_bytes(outbox.undelivered()[0]))
    assert kept["alert"]["alert_id"] == "alert-1" and "HTTP 500" in kept["error"]


def test_versions_of_an_alert_are_sent_in_order(outbox: Outbox, receiver: Received) -> None:
    versions = []
    for events in (5, 2, 9):
        item = alert(1, events)
        item["last_seen_at"] = f"2026-11-21T10:{events:02d}:00+00:00"
        versions.append(item)
    queue(outbox, *versions)
    sender = webhook_sender(receiver.url, outbox, backoff=0.01)
    assert receiver.wait_for(3, 30)
    sender.close()
    assert [a["event_count"] for a in receiver.json()] == [2, 5, 9]
