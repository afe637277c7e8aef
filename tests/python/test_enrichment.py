"""The enrichment chain: filters before storage and inventory joins, on a real dbt build."""

from __future__ import annotations

import json

import pytest

from conftest import BUILD, Workspace, cloudtrail_record, run_dbt, run_ingest, write_delivery_file

pytestmark = pytest.mark.e2e

PROD = "534439589175"  # the demo's prod account, in seeds/inventory_accounts.csv


def role_session(role: str, session: str) -> dict:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{PROD}:assumed-role/{role}/{session}",
        "accountId": PROD,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{PROD}:role/{role}",
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }


def lake_rows(ws: Workspace, columns: str) -> dict[str, tuple]:
    return {
        row[0]: row[1:] for row in ws.read(f"select event_id, {columns} from cloudtrail_events")
    }


def test_storage_filters_drop_rows_before_the_lake_and_say_how_many(workspace: Workspace) -> None:
    ws = workspace
    monitoring = role_session("monitoring-readonly", "datadog")
    records = [
        cloudtrail_record(
            f"noise-{n}",
            when=f"2026-03-01T10:0{n}:00Z",
            userIdentity=monitoring,
            eventName=name,
            readOnly=True,
        )
        for n, name in enumerate(["DescribeInstances", "ListBuckets", "GetBucketAcl"])
    ] + [
        # the same role changing something, and someone else reading: both kept
        cloudtrail_record(
            "write",
            when="2026-03-01T11:00:00Z",
            userIdentity=monitoring,
            eventName="PutBucketPolicy",
            readOnly=False,
        ),
        cloudtrail_record("alice-read", when="2026-03-01T12:00:00Z", eventName="ListUsers"),
    ]
    write_delivery_file(ws.root / "mixed.json.gz", records)
    run_ingest(ws, "load", "cloudtrail", str(ws.root / "mixed.json.gz"))

    assert "filtered before storage" not in run_dbt(ws, *BUILD)
    assert len(lake_rows(ws, "event_name")) == 5

    noisy_reads = (
        "not (session_issuer_arn like '%:role/monitoring-readonly' and read_only "
        "and regexp_matches(event_name, '^(Describe|List|Get)'))"
    )
    filters = json.dumps({"storage_filters": {"cloudtrail": [noisy_reads]}})
    out = run_dbt(ws, *BUILD, "--vars", filters)
    # A filter is part of the model's SQL: every partition is rebuilt under it.
    assert "rebuilt 1, merged 0, removed 0 of 1 partition(s); 3 row(s) of them filtered" in out
    assert sorted(lake_rows(ws, "event_name")) == ["alice-read", "write"]

    # Two conditions are ANDed; removing the filters brings the rows back.
    both = json.dumps(
        {"storage_filters": {"cloudtrail": [noisy_reads, "event_name != 'ListUsers'"]}}
    )
    assert "4 row(s) of them filtered" in run_dbt(ws, *BUILD, "--vars", both)
    assert sorted(lake_rows(ws, "event_name")) == ["write"]
    run_dbt(ws, *BUILD)
    assert len(lake_rows(ws, "event_name")) == 5


def test_inventory_enrichment_joins_by_account_cidr_and_patterns(workspace: Workspace) -> None:
    ws = workspace
    day = "2026-03-02T09:00:00Z"
    records = [
        cloudtrail_record(
            "office-ci",
            when=day,
            recipientAccountId=PROD,
            sourceIPAddress="192.0.2.50",
            userAgent="APN/1.0 HashiCorp/1.0 Terraform/1.9.2",
            userIdentity={
                "type": "IAMUser",
                "arn": f"arn:aws:iam::{PROD}:user/ci-deployer",
                "accountId": PROD,
                "userName": "ci-deployer",
                "principalId": "AIDA1",
            },
            eventName="PutObject",
            eventSource="s3.amazonaws.com",
            requestParameters={"bucketName": "terraform-state-prod-us-east-1", "key": "x"},
        ),
        cloudtrail_record(
            "vpc-backup",
            when=day,
            recipientAccountId=PROD,
            sourceIPAddress="10.20.4.17",
            userIdentity=role_session("web-app-instance-role", "i-1"),
            eventName="StopInstances",
            eventSource="ec2.amazonaws.com",
            requestParameters={"instancesSet": {"items": [{"instanceId": "i-0a1b2c3d4e5f60718"}]}},
        ),
        cloudtrail_record(
            "root-unknown",
            when=day,
            recipientAccountId="999999999999",
            sourceIPAddress="45.142.214.19",
            userIdentity={
                "type": "Root",
                "arn": "arn:aws:iam::999999999999:root",
                "accountId": "999999999999",
                "principalId": "999999999999",
            },
        ),
    ]
    write_delivery_file(ws.root / "inventory.json.gz", records)
    run_ingest(ws, "load", "cloudtrail", str(ws.root / "inventory.json.gz"))
    run_dbt(ws, *BUILD)
    rows = lake_rows(
        ws,
        "account_name, account_environment, source_network_name, source_network_trust, "
        "principal_owner, is_break_glass, asset_owner, asset_criticality, resource_name, "
        "automation_name",
    )
    assert rows["office-ci"] == (
        "prod",
        "production",
        "ci-runners",
        "ci",
        "platform-team",
        False,
        "platform-team",
        "critical",
        "terraform-state-prod-us-east-1",
        "terraform",
    )
    # 10.20.4.17 is in both 10.20.0.0/16 and 10.20.4.0/24: the most specific network wins.
    assert rows["vpc-backup"] == (
        "prod",
        "production",
        "prod-vpc-backup-subnet",
        "internal",
        "app-team",
        False,
        "app-team",
        "high",
        "i-0a1b2c3d4e5f60718",
        None,
    )
    assert rows["root-unknown"] == (
        None,
        None,
        None,
        None,
        "security-team",
        True,
        None,
        None,
        None,
        None,
    )
