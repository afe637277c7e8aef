"""`ingest networks aws-ranges`: AWS's published ranges as the seed `aws_ip_ranges`, which names
an instance's own AWS address so "instance credentials used outside AWS" stays quiet on it.

The document is served by a loopback HTTP server (never AWS); a hostile or unreachable one
writes nothing and keeps the seed."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest import aws_ranges

from conftest import (
    BUILD,
    Workspace,
    alerts,
    cloudtrail_record,
    invoke,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

DOCUMENT = {
    "syncToken": "1",
    "createDate": "2026-11-29-12-00-00",
    "prefixes": [
        {"ip_prefix": "3.5.140.0/22", "region": "us-east-1", "service": "AMAZON",
         "network_border_group": "us-east-1"},
        {"ip_prefix": "3.5.140.0/22", "region": "us-east-1", "service": "EC2",
         "network_border_group": "us-east-1"},
        {"ip_prefix": "52.94.76.0/22", "region": "eu-west-1", "service": "AMAZON",
         "network_border_group": "eu-west-1"},
    ],
    "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f14::/35", "region": "GLOBAL", "service": "CLOUDFRONT",
         "network_border_group": "GLOBAL"},
    ],
}  # fmt: skip


@pytest.fixture
def served() -> Iterator[dict]:
    """A loopback server answering GET with `served["body"]`."""
    state: dict = {"body": json.dumps(DOCUMENT).encode()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", state["location"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(state["body"])))
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_port}/ip-ranges.json"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def seed_rows(project: Path) -> list[dict]:
    with (project / aws_ranges.SEED).open() as handle:
        return list(csv.DictReader(handle))


def test_ranges_load_one_row_per_prefix_with_its_specific_service(
    workspace: Workspace, served: dict, tmp_path: Path
) -> None:
    output = run_ingest(workspace, "networks", "aws-ranges", "--url", served["url"],
                        "--project", str(tmp_path))  # fmt: skip
    assert "Wrote 3 prefixes (1 IPv6) of 2026-11-29-12-00-00" in output
    assert seed_rows(tmp_path) == [
        {"cidr": "2600:1f14::/35", "aws_region": "GLOBAL", "aws_service": "CLOUDFRONT"},
        {"cidr": "3.5.140.0/22", "aws_region": "us-east-1", "aws_service": "EC2"},
        {"cidr": "52.94.76.0/22", "aws_region": "eu-west-1", "aws_service": "AMAZON"},
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>captive portal</html>", "not JSON"),
        (b"[]", "not an ip-ranges document"),
        (b'{"prefixes": []}', "no prefixes"),
        (json.dumps({"prefixes": [{"ip_prefix": "0.0.0.0/0", "region": "us-east-1",
                                   "service": "EC2"}]}).encode(), "not a plausible AWS range"),
        (json.dumps({"prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "us-east-1",
                                   "service": "EC2"}]}).encode(), "not a plausible AWS range"),
        (json.dumps({"ipv6_prefixes": [{"ipv6_prefix": "::/0", "region": "us-east-1",
                                        "service": "EC2"}]}).encode(), "not a plausible AWS range"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (json.dumps({"prefixes": [{"ip_prefix": "3.5.140.0/22'; drop table x; --",
                                   "region": "us-east-1", "service": "EC2"}]}).encode(),
         "not a network"),
        (json.dumps({"prefixes": [{"ip_prefix": "3.5.140.0/22",
                                   "region": "us-east-1\n[red]x", "service": "EC2"}]}).encode(),
         "bad region or service"),
    ],
)  # fmt: skip
def test_a_bad_document_writes_nothing_and_keeps_the_seed(
    workspace: Workspace, served: dict, tmp_path: Path, body: bytes, reason: str
) -> None:
    run_ingest(workspace, "networks", "aws-ranges", "--url", served["url"],
               "--project", str(tmp_path))  # fmt: skip
    before = (tmp_path / aws_ranges.SEED).read_text()
    served["body"] = body
    result = invoke(workspace, "networks", "aws-ranges", "--url", served["url"],
                    "--project", str(tmp_path), expect=1)  # fmt: skip
    assert "AWS ranges not loaded" in result.output and reason in result.output
    assert "The seed keeps its 3 prefixes" in result.output
    assert (tmp_path / aws_ranges.SEED).read_text() == before


def test_a_redirect_is_followed_on_the_same_host_only(
    workspace: Workspace, served: dict, tmp_path: Path
) -> None:
    moved = served["url"].replace("/ip-ranges.json", "/moved")
    served["location"] = served["url"]
    output = run_ingest(workspace, "networks", "aws-ranges", "--url", moved,
                        "--project", str(tmp_path))  # fmt: skip
    assert "Wrote 3 prefixes" in output
    before = (tmp_path / aws_ranges.SEED).read_text()
    # another host (a name for the same loopback server: it is never fetched)
    served["location"] = served["url"].replace("127.0.0.1", "localhost")
    result = invoke(workspace, "networks", "aws-ranges", "--url", moved,
                    "--project", str(tmp_path), expect=1)  # fmt: skip
    assert "redirected to another host" in result.output and "not followed" in result.output
    assert (tmp_path / aws_ranges.SEED).read_text() == before


def test_offline_the_command_says_how_to_load_a_file(workspace: Workspace, tmp_path: Path) -> None:
    closed = "http://127.0.0.1:9/ip-ranges.json"  # the discard port: nothing listens
    result = invoke(workspace, "networks", "aws-ranges", "--url", closed,
                    "--project", str(tmp_path), expect=1)  # fmt: skip
    assert "--file" in result.output and not (tmp_path / aws_ranges.SEED).exists()
    document = tmp_path / "ip-ranges.json"
    document.write_text(json.dumps(DOCUMENT))
    output = run_ingest(workspace, "networks", "aws-ranges", "--file", str(document),
                        "--project", str(tmp_path))  # fmt: skip
    assert "Wrote 3 prefixes" in output and len(seed_rows(tmp_path)) == 3


def instance_call(event_id: str, address: str, when: str) -> dict:
    return cloudtrail_record(
        event_id,
        when=when,
        eventSource="s3.amazonaws.com",
        eventName="ListBuckets",
        sourceIPAddress=address,
        userAgent="aws-cli/2.17.12 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64",
        userIdentity={
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEWEBROLE001:i-0a1b2c3d4e5f60718",
            "arn": "arn:aws:sts::111122223333:assumed-role/web/i-0a1b2c3d4e5f60718",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLEWEB000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEWEBROLE001",
                    "arn": "arn:aws:iam::111122223333:role/web",
                    "accountId": "111122223333",
                    "userName": "web",
                },
                "attributes": {"creationDate": "2026-03-01T09:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0",
            },
        },
    )


@pytest.mark.e2e
def test_an_instance_calling_from_aws_is_quiet_and_from_elsewhere_alerts(
    workspace: Workspace,
) -> None:
    ws = workspace
    project = ws.project_copy()
    document = ws.root / "ip-ranges.json"
    document.write_text(json.dumps(DOCUMENT))
    run_ingest(ws, "networks", "aws-ranges", "--file", str(document), "--project", str(project))
    records = [
        instance_call("nat-gateway", "3.5.140.20", "2026-03-01T10:00:00Z"),
        instance_call("thief", "45.142.214.19", "2026-03-01T10:05:00Z"),
    ]
    write_delivery_file(ws.root / "instance.json.gz", records)
    run_ingest(ws, "load", "cloudtrail", str(ws.root / "instance.json.gz"))
    run_dbt(ws, *BUILD)
    named = dict(ws.read("select event_id, source_network_name from cloudtrail_events"))
    assert named == {"nat-gateway": "aws ec2 us-east-1", "thief": None}
    fired = [a for a in alerts(ws)
             if a["detection_id"] == "aws-ec2-instance-credentials-used-outside-aws"]  # fmt: skip
    assert [a["event_ids"] for a in fired] == [["thief"]]
