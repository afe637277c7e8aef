"""`ingest watch cloudtrail` end to end: moto S3 and a webhook receiver on loopback, the real
CLI in a subprocess, the real dbt build. A StopLogging object becomes exactly one webhook
alert within two intervals; a restarted watcher sends nothing twice; a failing receiver
never holds up the loop and what it refused is kept."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, cloudtrail_record, make_workspace

INGEST = str(Path(sys.executable).with_name("ingest"))
INTERVAL = 30  # seconds; a cycle's dbt build takes a good part of it on two cores
ACCOUNT = "111122223333"


class Receiver(BaseHTTPRequestHandler):
    alerts: list[dict]
    fail_with: int | None = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.fail_with:
            self.send_response(self.fail_with)
        else:
            self.alerts.append({**json.loads(body), "received_at": time.monotonic()})
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    handler = type("Hook", (Receiver,), {"alerts": [], "fail_with": None})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()


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


def start_watch(ws: dict, url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [INGEST, "watch", "cloudtrail", "--bucket", "trail", "--interval", str(INTERVAL),
         "--webhook", url, "--project", str(PROJECT_ROOT), *extra],
        env=ws["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out, err


def test_stop_logging_becomes_one_webhook_alert_and_restarts_send_nothing_twice(
    aws, receiver, tmp_path: Path
) -> None:
    handler, url = receiver
    ws = make_workspace(tmp_path)
    ws["env"] = {**ws["env"], **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    aws.s3.create_bucket(Bucket="trail")
    put_records(aws.s3, "trail", "benign", [
        cloudtrail_record(f"benign-{i}", when=now_iso()) for i in range(5)
    ])  # fmt: skip

    watch = start_watch(ws, url)
    try:
        # the first cycle lands and builds the benign object: nothing to send
        built = wait_for(lambda: (ws["lake"] / "alerts").exists(), 3 * INTERVAL)
        if not built:
            watch.terminate()
            pytest.fail("first cycle did not build: " + watch.communicate(timeout=60)[1][-3000:])
        assert handler.alerts == []
        attack = cloudtrail_record(
            "stop-logging-1", when=now_iso(), eventSource="cloudtrail.amazonaws.com",
            eventName="StopLogging", readOnly=False,
            requestParameters={"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"},
        )  # fmt: skip
        written = time.monotonic()
        put_records(aws.s3, "trail", "attack", [attack])
        arrived = wait_for(lambda: handler.alerts, 2 * INTERVAL + 5)
        time.sleep(2)
    finally:
        out, err = stop(watch)
    assert arrived, "no alert within two intervals: " + err[-3000:]
    tampering = [a for a in handler.alerts if a["detection_id"] == "aws-cloudtrail-tampering"]
    assert len(tampering) == 1
    assert tampering[0]["event_ids"] == ["stop-logging-1"]
    assert tampering[0]["received_at"] - written <= 2 * INTERVAL + 5
    assert "delivery→alert latency" in err and "1 alert(s) sent" in err
    assert json.loads(out.splitlines()[0])["alert_id"] == tampering[0]["alert_id"]  # stdout too
    sent_before = len(handler.alerts)

    # restart: the ledger in the lake says what was sent
    again = start_watch(ws, url, "--cycles", "2", "--interval", "1")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert len(handler.alerts) == sent_before and out == ""


def test_failing_webhook_never_blocks_and_keeps_what_it_refused(
    aws, receiver, tmp_path: Path
) -> None:
    handler, url = receiver
    handler.fail_with = 400  # the receiver rejects every alert
    ws = make_workspace(tmp_path)
    ws["env"] = {**ws["env"], **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    aws.s3.create_bucket(Bucket="trail")
    put_records(aws.s3, "trail", "attack", [
        cloudtrail_record("stop-2", when=now_iso(), eventSource="cloudtrail.amazonaws.com",
                          eventName="StopLogging", readOnly=False),
    ])  # fmt: skip
    watch = start_watch(ws, url, "--cycles", "2", "--interval", "1", "--send-existing")
    out, err = watch.communicate(timeout=300)
    assert watch.returncode == 0, err
    assert "stop-2" in out  # stdout still got it
    undelivered = list((ws["lake"] / "_state" / "watch" / "undelivered").glob("*.json"))
    assert len(undelivered) >= 1
    kept = json.loads(undelivered[0].read_text())
    assert "refused" in kept["error"] and kept["alert"]["event_ids"] == ["stop-2"]


def test_watch_from_sqs_notifications(aws, receiver, tmp_path: Path) -> None:
    """The same loop fed by CloudTrail's SNS-to-SQS notifications instead of listing."""
    handler, url = receiver
    ws = make_workspace(tmp_path)
    ws["env"] = {**ws["env"], **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
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
        [INGEST, "watch", "cloudtrail", "--sqs-queue-url", queue, "--webhook", url,
         "--cycles", "1", "--send-existing", "--project", str(PROJECT_ROOT)],
        env=ws["env"], capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert watch.returncode == 0, watch.stderr
    assert [a["event_ids"] for a in handler.alerts] == [["stop-3"]]
    assert "+1 object(s)" in watch.stderr
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"  # consumed once landed
