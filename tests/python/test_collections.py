"""Collections as configuration: `trailhouse.yml` validated with places named, `ingest pull`
running every collection (S3 org trail, S3 trail, SQS, access log) against moto on loopback,
the `collection` column in the datasets, and per-collection status that matches the lake."""

from __future__ import annotations

import gzip
import hashlib
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from conftest import (
    BUILD,
    SHARED_FIXTURES,
    LakeReader,
    Workspace,
    cloudtrail_record,
    invoke,
    run_dbt,
)

TODAY = datetime.now(UTC)


def put_trail_object(s3, bucket: str, prefix: str, account: str, ids: list[str]) -> str:
    key = (
        f"{prefix}AWSLogs/{account}/CloudTrail/us-east-1/{TODAY:%Y/%m/%d}/"
        f"{account.split('/')[-1]}_CloudTrail_us-east-1_{TODAY:%Y%m%dT%H%MZ}_"
        f"{hashlib.md5(ids[0].encode()).hexdigest()[:16]}.json.gz"
    )
    stamp = TODAY.strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [cloudtrail_record(i, when=stamp) for i in ids]
    s3.put_object(
        Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode())
    )
    return key


def cli(ws: Workspace, *args: str) -> Result:
    return invoke(ws, *args, expect=None)


@pytest.fixture
def four_sources(aws, tmp_path: Path) -> dict:
    ws = Workspace.create(tmp_path)
    aws.s3.create_bucket(Bucket="org-trail")
    aws.s3.create_bucket(Bucket="team-trail")
    put_trail_object(aws.s3, "org-trail", "", "o-abcdefghij/111111111111", ["org-1", "org-2"])
    put_trail_object(aws.s3, "org-trail", "", "o-abcdefghij/222222222222", ["org-3"])
    put_trail_object(aws.s3, "team-trail", "logs/", "333333333333", ["team-1"])
    queued = put_trail_object(aws.s3, "team-trail", "queued/", "444444444444", ["sqs-1", "sqs-2"])
    queue = aws.sqs.create_queue(QueueName="notes")["QueueUrl"]
    aws.sqs.send_message(
        QueueUrl=queue, MessageBody=json.dumps({"s3Bucket": "team-trail", "s3ObjectKey": [queued]})
    )
    config = tmp_path / "trailhouse.yml"
    config.write_text(
        textwrap.dedent(f"""
        connections:
          local:
            region: us-east-1
            endpoint_url: ${{AWS_ENDPOINT_URL}}
            role_arn: arn:aws:iam::123456789012:role/TrailhouseReadOnly
        collections:
          org:
            type: cloudtrail_s3
            connection: local
            bucket: org-trail
            org_id: o-abcdefghij
            filters: ["event_id != 'org-2'"]
          team:
            type: cloudtrail_s3
            connection: local
            bucket: team-trail
            prefix: logs
            filters: ["event_name is not null"]
          notifications:
            type: cloudtrail_sqs
            connection: local
            queue_url: {queue}
          web:
            type: access_log
            paths: ["{SHARED_FIXTURES / "web" / "apache_combined_sample.log"}"]
            format: combined
            filters: ["status < 400"]
    """)
    )
    ws.env["TRAILHOUSE_CONFIG"] = str(config)
    return {"ws": ws, "config": config}


@pytest.mark.e2e
def test_pull_lands_every_collection_and_status_matches_the_lake(four_sources: dict) -> None:
    ws = four_sources["ws"]
    result = cli(ws, "pull")
    assert result.exit_code == 0, result.output
    for name in ("org", "team", "notifications", "web"):
        assert f"ok {name} (" in result.output
    run_dbt(ws, *BUILD)
    in_lake = dict(
        ws.read("""
        select collection, count(*) from (
            select collection from cloudtrail_events
            union all
            select collection from http_access_log
        ) group by 1
    """)
    )
    # each collection's filters applied before storage: org-2 and the web errors are gone
    sample = (SHARED_FIXTURES / "web" / "apache_combined_sample.log").read_text().splitlines()
    web_ok = sum(int(line.split('" ')[1].split()[0]) < 400 for line in sample)
    assert 1000 < web_ok < 2000
    assert in_lake == {"org": 2, "team": 1, "notifications": 2, "web": web_ok}
    status = json.loads(cli(ws, "status", "--json").output)
    shown = {c["name"]: c for c in status["collections"]}
    assert {n: c["events_in_lake"] for n, c in shown.items()} == in_lake
    assert all(c["ok"] and c["last_success_at"] for c in shown.values())
    assert shown["org"]["objects"] == 2 and shown["web"]["records"] == 2000  # as landed


def test_pull_named_collections_only(four_sources: dict) -> None:
    ws = four_sources["ws"]
    result = cli(ws, "pull", "team", "web")
    assert result.exit_code == 0, result.output
    assert "ok team" in result.output and "ok web" in result.output and "org" not in result.output
    result = cli(ws, "pull", "nope")
    assert result.exit_code == 2 and "no collection 'nope'" in result.output


def test_watch_goes_through_a_collection_of_the_config(
    four_sources: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest watch --collection NAME` pulls the way `ingest pull NAME` does: the collection's
    connection (an assumed role here), prefix and name on every row, in the same code."""
    ws = four_sources["ws"]
    for name, message in (("nope", "no collection 'nope'"),
                          ("web", "'web' is not a CloudTrail bucket or queue")):  # fmt: skip
        result = cli(ws, "watch", "cloudtrail", "--collection", name)
        assert result.exit_code == 2 and message in result.output, result.output
    # One cycle. Its dbt build is not what this test is about (test_watch.py runs the real
    # one), so the cycle's build step reports success without running dbt.
    from ingest.watch import Watcher

    monkeypatch.setattr(Watcher, "build", lambda self, env=None: (True, ""))
    result = cli(ws, "watch", "cloudtrail", "--collection", "team", "--cycles", "1",
                 "--interval", "0.1", "--no-stdout")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "+1 object(s), +1 record(s)" in result.output
    assert LakeReader(ws.lake).rows("select event_id, collection from landing_cloudtrail") == [
        ("team-1", "team")
    ]


def test_a_failing_collection_does_not_stop_the_others(four_sources: dict) -> None:
    ws = four_sources["ws"]
    config = four_sources["config"]
    config.write_text(config.read_text().replace("bucket: org-trail", "bucket: missing-bucket"))
    result = cli(ws, "pull")
    assert result.exit_code == 1
    assert "failed org" in result.output and "ok team" in result.output
    assert "ok web" in result.output
    status = json.loads(cli(ws, "status", "--json").output)
    org = next(c for c in status["collections"] if c["name"] == "org")
    assert not org["ok"] and "missing-bucket" in org["error"] and org["last_success_at"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("format: combined", "format: combined\n    colour: red"), "collections.web: unknown key"),
        (("type: access_log", "type: 42"), "collections.web.type"),
        (("    bucket: org-trail\n", ""), "collections.org: 'bucket' is a required property"),
        (('filters: ["event_name is not null"]', 'filters: ["event_name = = 1"]'),
         "collections.team.filters.0: not a SQL condition"),
        (("region: us-east-1", "region: us-east-1\n    aws_secret_access_key: abc"),
         "connections.local.aws_secret_access_key: secrets do not go in this file"),
        (("connection: local\n    bucket: org-trail", "connection: other\n    bucket: org-trail"),
         "collections.org.connection: no connection named 'other'"),
        (("\ncollections:", "\nwatch:\n  webhook: https://hooks.example/T0/B0/s3cr3tT0k\ncollections:"),
         "watch.webhook: a webhook URL is a secret: write ${NAME} here"),
    ],
)  # fmt: skip
def test_invalid_configs_name_the_place_and_pull_nothing(
    four_sources: dict, change: tuple[str, str], message: str
) -> None:
    ws = four_sources["ws"]
    config = four_sources["config"]
    text = config.read_text()
    assert change[0] in text
    config.write_text(text.replace(change[0], change[1], 1))
    for command in (["pull"], ["config", "validate"]):
        result = cli(ws, *command)
        assert result.exit_code == 2, (command, result.output)
        output = " ".join(result.output.split())
        assert message in output, output
        assert "trailhouse.yml:" in output  # the line is named
        assert "s3cr3tT0k" not in output  # a refused secret is not echoed
    assert not (ws.lake / "landing").exists() or not any((ws.lake / "landing").rglob("*.parquet"))


def test_config_show_resolves_references_and_hides_secret_ones(four_sources: dict) -> None:
    ws = four_sources["ws"]
    config = four_sources["config"]
    config.write_text(config.read_text().replace("prefix: logs", "prefix: ${TEAM_TOKEN}"))
    ws.env["TEAM_TOKEN"] = "very-secret-value"
    result = cli(ws, "config", "show")
    assert result.exit_code == 0, result.output
    assert "very-secret-value" not in result.output and "${TEAM_TOKEN}" in result.output
    assert ws.env["AWS_ENDPOINT_URL"] in result.output


def test_the_shipped_example_config_is_valid(tmp_path: Path) -> None:
    from ingest.config import load

    from conftest import PROJECT_ROOT

    environ = {"TRAILHOUSE_EXTERNAL_ID": "x", "TRAILHOUSE_WEBHOOK_URL": "https://hooks.example/x",
               "SLACK_WEBHOOK_URL": "https://hooks.example/s", "PAGERDUTY_ROUTING_KEY": "k",
               "SIEM_WEBHOOK_URL": "https://siem.example/x"}  # fmt: skip
    config = load(PROJECT_ROOT / "trailhouse.example.yml", environ)
    assert [d["name"] for d in config.destinations] == ["soc-slack", "oncall", "siem"]
    assert config.watch == {"webhook": "${TRAILHOUSE_WEBHOOK_URL}"}
    assert set(config.collections) == {
        "org_trail", "sandbox_trail", "trail_notifications", "web", "audit_app"
    }  # fmt: skip


def test_validate_checks_that_profiles_exist(four_sources: dict, tmp_path: Path) -> None:
    ws = four_sources["ws"]
    config = four_sources["config"]
    config.write_text(config.read_text().replace("region: us-east-1", "profile: nope", 1))
    ws.env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    result = cli(ws, "config", "validate")
    assert (
        result.exit_code == 2
        and "connections.local.profile: no AWS profile 'nope'" in result.output
    )
