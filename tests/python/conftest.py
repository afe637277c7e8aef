"""Shared fixtures: a fresh lake per test, the real CLI, and the public sample data."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Wide output so assertions on messages are not broken by line wrapping.
os.environ["COLUMNS"] = "200"

from ingest.cli import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))
SHARED_FIXTURES = Path(os.environ.get("TRAILHOUSE_SHARED", PROJECT_ROOT.parent / "shared")) / (
    "fixtures"
)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("TRAILHOUSE_LAKE", str(root))
    monkeypatch.setenv("TRAILHOUSE_DB", str(tmp_path / "trailhouse.duckdb"))
    return root


@pytest.fixture
def ingest(lake: Path) -> Callable[..., object]:
    """Run the real `ingest` CLI in-process against the test's lake."""
    runner = CliRunner()

    def run(*args: str, expect: int | None = 0):
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    return run


@pytest.fixture
def stratus_dir() -> Path:
    directory = SHARED_FIXTURES / "stratus"
    if not directory.is_dir():
        pytest.skip(f"public fixtures not found at {directory} (set TRAILHOUSE_SHARED)")
    return directory


def cloudtrail_record(event_id: str, when: str = "2024-08-02T08:53:24Z", **extra) -> dict:
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE000000001",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLE000000001",
            "userName": "alice",
        },
        "eventTime": when,
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17.12",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


def write_delivery_file(path: Path, records: list[dict]) -> Path:
    """A CloudTrail S3 delivery object: gzip of {"Records": [...]}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), mtime=0))
    return path


# -- a real S3/SQS server on loopback ---------------------------------------------------------

FAKE_KEY_ID = "AKIATRAILHOUSETEST01"
FAKE_SECRET = "trailhouse-test-secret-must-never-be-printed"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> str:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """Credentials and endpoint for the loopback server; its state is reset for each test."""
    import urllib.request

    import boto3

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()

    class Clients:
        endpoint = moto_endpoint
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")

    return Clients


# -- a throwaway lake, DuckDB file and dbt target per test -------------------------------------


def make_workspace(root: Path) -> dict:
    """A throwaway lake, DuckDB file and dbt target/log directories under `root`."""
    env = {
        **os.environ,
        "TRAILHOUSE_LAKE": str(root / "lake"),
        "TRAILHOUSE_DB": str(root / "trailhouse.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DO_NOT_TRACK": "1",
    }
    return {"env": env, "lake": root / "lake", "tmp": root}


@pytest.fixture
def workspace(tmp_path: Path) -> dict:
    return make_workspace(tmp_path)


def run_ingest(ws: dict, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=ws["env"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def project_copy(ws: dict) -> Path:
    """A fresh copy of the dbt project in the workspace, for tests that edit models or seeds."""
    project = ws["tmp"] / "project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(
        PROJECT_ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "target", "logs", "lake", "build", "*.duckdb"
        ),
    )
    return project


def dbt_in(project: Path, ws: dict, *args: str) -> subprocess.CompletedProcess:
    """dbt in another project directory (a `project_copy`); the caller checks the outcome."""
    return subprocess.run(
        [DBT, *args], cwd=project, env=ws["env"], capture_output=True, text=True, check=False
    )


def run_dbt(ws: dict, *args: str) -> str:
    result = subprocess.run(
        [DBT, *args], cwd=PROJECT_ROOT, env=ws["env"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def demo_and_web_lake(root: Path, events: int) -> dict:
    """A workspace whose lake holds a small demo (3 days) and the public Apache sample, built
    by dbt (unit tests left out: other tests run them)."""
    ws = make_workspace(root)
    run_ingest(ws, "demo", "--events", str(events), "--days", "3")
    run_ingest(
        ws, "load", "access-log", str(SHARED_FIXTURES / "web" / "apache_combined_sample.log")
    )
    run_dbt(ws, "build", "--exclude", "resource_type:unit_test")
    return ws
