"""`ingest watch cloudtrail` end to end: moto S3 and a webhook receiver on loopback, the real
CLI in a subprocess, the real dbt build. A StopLogging object becomes exactly one webhook
alert within two intervals; a restarted watcher sends nothing twice; a failing receiver
never holds up the loop and what it refused is kept; a watcher killed while a slow receiver
holds a delivery loses no alert."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import INGEST, PROJECT_ROOT, Received, Workspace, cloudtrail_record

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

INTERVAL = 40  # seconds; a cycle's dbt build takes a good part of it on two busy cores
ACCOUNT = "111122223333"


def put_records(s3, bucket: str, name: str, records: list[dict]) -> str:
    day = datetime.now(UTC)
    key = (
        f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day:%Y/%m/%d}/"
        f"{ACCOUNT}_CloudTrail_us-east-1_{day:%Y%m%dT%H%MZ}_{name}.json.gz"
    )
    body = gzip.compress(json.dumps({"Records": records}).encode())
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Watch:
    """`ingest watch cloudtrail` in a subprocess; its stderr (one line per cycle) is read as it
    comes, so a test can wait for a cycle's line instead of sleeping, and its stdout (the alerts,
    a JSON line each) is drained as it comes, so a full pipe never stops the watch."""

    def __init__(self, ws: Workspace, url: str, *extra: str) -> None:
        self.process = subprocess.Popen(
            [INGEST, "watch", "cloudtrail", "--bucket", "trail", "--interval", str(INTERVAL),
             "--webhook", url, "--project", str(PROJECT_ROOT), *extra],
            env=ws.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.err: list[str] = []
        self.out: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(
            target=lambda: self.out.extend(self.process.stdout), daemon=True
        )
        self._out_reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.err.append(line)
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float) -> bool:
        """Until a line of stderr holds `text` (True), or the process ends or time runs out."""
        with self._changed:
            self._changed.wait_for(lambda: self._seen(text) or self.ended, timeout)
            return self._seen(text)

    def _seen(self, text: str) -> bool:
        return any(text in line for line in self.err)

    def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout=120)

    def finish(self, timeout: float, expect: int = 0) -> tuple[str, str]:
        self.process.wait(timeout)
        self._reader.join(timeout)
        self._out_reader.join(timeout)
        err = "".join(self.err)
        assert self.process.returncode == expect, err
        return "".join(self.out), err


def aws_workspace(tmp_path: Path) -> Workspace:
    """A workspace whose environment reaches the loopback S3/SQS server (set by `aws`)."""
    ws = Workspace.create(tmp_path)
    ws.env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    return ws


def test_stop_logging_becomes_one_webhook_alert_and_restarts_send_nothing_twice(
    aws, receiver: Received, tmp_path: Path
) -> None:
    ws = aws_workspace(tmp_path)
    aws.s3.create_bucket(Bucket="trail")
    put_records(aws.s3, "trail", "benign", [
        cloudtrail_record(f"benign-{i}", when=now_iso()) for i in range(5)
    ])  # fmt: skip

    watch = Watch(ws, receiver.url)
    try:
        # the first cycle lands and builds the benign object: nothing to send
        if not watch.wait_for_line("alert(s) sent", 3 * INTERVAL):
            watch.process.terminate()
            pytest.fail("first cycle did not build: " + "".join(watch.err)[-3000:])
        assert (ws.lake / "alerts").exists() and receiver.bodies == []
        attack = cloudtrail_record(
            "stop-logging-1", when=now_iso(), eventSource="cloudtrail.amazonaws.com",
            eventName="StopLogging", readOnly=False,
            requestParameters={"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"},
        )  # fmt: skip
        written = time.monotonic()
        put_records(aws.s3, "trail", "attack", [attack])
        arrived = receiver.wait_for(1, 2 * INTERVAL + 5)
        watch.wait_for_line("1 alert(s) sent", INTERVAL)  # the cycle that sent it has ended
    finally:
        out, err = watch.stop()
    assert arrived, "no alert within two intervals: " + err[-3000:]
    tampering = [a for a in receiver.json() if a["detection_id"] == "aws-cloudtrail-tampering"]
    assert len(tampering) == 1
    assert tampering[0]["event_ids"] == ["stop-logging-1"]
    assert receiver.arrivals[0] - written <= 2 * INTERVAL + 5
    assert "delivery→alert latency" in err and "1 alert(s) sent" in err
    assert json.loads(out.splitlines()[0])["alert_id"] == tampering[0]["alert_id"]  # stdout too
    sent_before = len(receiver.bodies)

    # restart: the ledger in the lake says what was sent
    again = Watch(ws, receiver.url, "--cycles", "2", "--interval", "1")
    out, err = again.finish(timeout=300)
    assert len(receiver.bodies) == sent_before and out == ""


def test_failing_webhook_never_blocks_and_keeps_what_it_refused(
    aws, receiver: Received, tmp_path: Path
) -> None:
    receiver.statuses = [400] * 100  # the receiver rejects every alert
    ws = aws_workspace(tmp_path)
    aws.s3.create_bucket(Bucket="trail")
    put_records(aws.s3, "trail", "attack", [
        cloudtrail_record("stop-2", when=now_iso(), eventSource="cloudtrail.amazonaws.com",
                          eventName="StopLogging", readOnly=False),
    ])  # fmt: skip
    watch = Watch(ws, receiver.url, "--cycles", "2", "--interval", "1", "--send-existing")
    out, _ = watch.finish(timeout=300)
    assert "stop-2" in out  # stdout still got it
    assert receiver.refused >= 1 and receiver.bodies == []
    undelivered = list((ws.lake / "_state" / "watch" / "undelivered").glob("*.json"))
    assert len(undelivered) >= 1
    kept = json.loads(undelivered[0].read_text())
    assert "refused" in kept["error"] and kept["alert"]["event_ids"] == ["stop-2"]


def test_watch_from_sqs_notifications(aws, receiver: Received, tmp_path: Path) -> None:
    """The same loop fed by CloudTrail's SNS-to-SQS notifications instead of listing."""
    ws = aws_workspace(tmp_path)
    aws.s3.create_bucket(Bucket="trail")
    queue = aws.sqs.create_queue(QueueName="trail-notes")["QueueUrl"]
    key = put_records(aws.s3, "trail", "attack", [
        cloudtrail_record("stop-3", when=now_iso(), eventSource="cloudtrail.amazonaws.com",
                          eventName="StopLogging", readOnly=False),
    ])  # fmt: skip
    note = {"s3Bucket": "trail", "s3ObjectKey": [key]}
    aws.sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps({"Type": "Notification", "Message": json.dumps(note)}),
    )
    watch = subprocess.run(
        [INGEST, "watch", "cloudtrail", "--sqs-queue-url", queue, "--webhook", receiver.url,
         "--cycles", "1", "--send-existing", "--project", str(PROJECT_ROOT)],
        env=ws.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert watch.returncode == 0, watch.stderr
    assert [a["event_ids"] for a in receiver.json()] == [["stop-3"]]
    assert "+1 object(s)" in watch.stderr
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"  # consumed once landed


def test_a_watch_killed_during_a_slow_delivery_loses_no_alert(
    aws, receiver: Received, demo_lake: Workspace, tmp_path: Path
) -> None:
    """kill -9 while the receiver holds the first POST: the ledger already says "sent" for
    every alert, so only the outbox can bring them back; the next start delivers them all."""
    ws = demo_lake.copy(tmp_path / "ws")
    ws.env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    aws.s3.create_bucket(Bucket="trail")  # nothing new to pull: the lake's alerts are the news
    expected = {alert_id for (alert_id,) in ws.read("select alert_id from alerts")}
    assert len(expected) >= 5
    receiver.delay = 5.0
    watch = Watch(ws, receiver.url, "--send-existing", "--interval", "1")
    try:
        assert receiver.wait_for_started(1, 300), "".join(watch.err)[-3000:]
    finally:
        watch.process.kill()
        watch.process.wait(30)
    assert (ws.lake / "_state" / "watch" / "sent.parquet").exists()
    assert len(list((ws.lake / "_state" / "watch" / "outbox").glob("*.json"))) == len(expected)
    receiver.wait_for(1, 15)  # the held answer went to a dead process: not an acknowledgement
    before = len(receiver.bodies)
    receiver.delay = 0.0

    again = Watch(ws, receiver.url, "--cycles", "1", "--interval", "1")
    out, err = again.finish(timeout=300, expect=1)  # exit 1: the empty bucket's warning
    assert "no CloudTrail folders" in err and out == ""  # nothing new for the ledger
    delivered = [a["alert_id"] for a in receiver.json()[before:]]
    assert set(delivered) == expected and len(delivered) == len(expected)
    assert not list((ws.lake / "_state" / "watch" / "outbox").glob("*.json"))
