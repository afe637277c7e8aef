"""Tuning without editing SQL: the dbt vars `detections` (enabled, severity, params, exclude per
detection or for all) and `severity_rules` (severity by context, with the reason), on a real lake
build."""

from __future__ import annotations

import json

import pytest

from conftest import (
    BUILD,
    Workspace,
    alerts,
    cloudtrail_record,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

pytestmark = pytest.mark.e2e

ROOT = {
    "type": "Root",
    "principalId": "111122223333",
    "arn": "arn:aws:iam::111122223333:root",
    "accountId": "111122223333",
}


def _records() -> list[dict]:
    root_login = cloudtrail_record(
        "root-login",
        "2026-03-01T10:00:00Z",
        userIdentity=ROOT,
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        eventType="AwsConsoleSignIn",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "Yes"},
    )
    failures = [
        cloudtrail_record(
            f"fail-{i}",
            f"2026-03-01T11:0{i}:00Z",
            eventSource="signin.amazonaws.com",
            eventName="ConsoleLogin",
            eventType="AwsConsoleSignIn",
            sourceIPAddress="198.51.100.77",
            responseElements={"ConsoleLogin": "Failure"},
        )
        for i in range(5)
    ]
    return [root_login, *failures]


def _by_detection(ws: Workspace) -> dict[str, dict]:
    return {a["detection_id"]: a for a in alerts(ws)}


def _build(ws: Workspace, settings: dict | None = None, expect_pass: bool = True) -> str:
    extra = ["--vars", json.dumps({"detections": settings})] if settings is not None else []
    return run_dbt(ws, *BUILD, *extra, expect_pass=expect_pass)


def test_detections_are_tuned_by_vars_and_severity_follows_context(workspace: Workspace) -> None:
    ws = workspace
    run_ingest(ws, "load", "cloudtrail", write_delivery_file(ws.root / "a.json.gz", _records()))
    _build(ws)
    found = _by_detection(ws)
    # root is a break-glass principal (seeds/inventory_principals.csv): high → critical
    root = found["aws-root-console-login"]
    assert (root["severity"], root["severity_reason"]) == ("critical", "break-glass principal")
    burst = found["aws-console-login-failures-burst"]
    assert burst["event_count"] == 5 and burst["severity_reason"] is None

    # a parameter: six failures needed now, so five do not alert
    _build(ws, {"aws-console-login-failures-burst": {"params": {"at_least": 6}}})
    assert "aws-console-login-failures-burst" not in _by_detection(ws)

    # disabled, and another one's severity replaced (still raised by the break-glass rule)
    _build(
        ws,
        {
            "aws-console-login-failures-burst": {"enabled": False},
            "aws-root-console-login": {"severity": "low"},
        },
    )
    found = _by_detection(ws)
    assert "aws-console-login-failures-burst" not in found
    assert found["aws-root-console-login"]["severity"] == "medium"

    # an exclusion for every detection, on an event column, by glob
    _build(ws, {"*": {"exclude": [{"source_ip_address": "198.51.100.*"}]}})
    found = _by_detection(ws)
    assert "aws-console-login-failures-burst" not in found
    assert "aws-root-console-login" in found

    # back to the defaults: the same alerts as the first build
    _build(ws)
    assert _by_detection(ws)["aws-console-login-failures-burst"]["event_count"] == 5


def test_a_setting_for_no_detection_or_of_no_kind_fails_the_build(workspace: Workspace) -> None:
    ws = workspace
    run_ingest(ws, "load", "cloudtrail", write_delivery_file(ws.root / "a.json.gz", _records()))
    output = _build(ws, {"aws-no-such-detection": {"enabled": False}}, expect_pass=False)
    assert "no detection with id aws-no-such-detection" in output
    output = _build(ws, {"aws-root-console-login": {"severty": "low"}}, expect_pass=False)
    assert "unknown setting severty" in output
    output = _build(ws, {"aws-root-console-login": {"severity": "urgent"}}, expect_pass=False)
    assert "unknown severity urgent" in output
    # a parameter becomes SQL text: only a number where the detection expects one
    settings = {"aws-console-login-failures-burst": {"params": {"at_least": "0 or true"}}}
    output = _build(ws, settings, expect_pass=False)
    assert "params.at_least: expected a number >= 0" in output
    # a list parameter holds text values only (each reaches SQL through sql_string)
    settings = {"aws-principal-first-use-of-abused-service": {"params": {"services": "x"}}}
    output = _build(ws, settings, expect_pass=False)
    assert "params.services: expected a non-empty list of text values" in output
