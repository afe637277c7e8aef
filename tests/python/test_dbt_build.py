"""End to end: `ingest` lands, `dbt build` (models, unit tests, data tests) writes the lake.

The lake tests read the shared demo lake; the ones that change a lake work on a copy of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from conftest import (
    BUILD,
    DEMO,
    LakeReader,
    Workspace,
    cloudtrail_record,
    demo_scenarios,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

pytestmark = pytest.mark.e2e


def content_digest(ws: Workspace) -> str:
    rows = ws.read("select * exclude (landed_at) from cloudtrail_events order by event_id")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_lake_holds_every_generated_event_once(demo_lake: Workspace) -> None:
    (rows, distinct) = demo_lake.read(
        "select count(*), count(distinct event_id) from cloudtrail_events"
    )[0]
    assert rows == distinct == DEMO["events"]


def test_lake_is_hive_partitioned_by_event_date(demo_lake: Workspace) -> None:
    partitions = sorted(p.name for p in (demo_lake.lake / "cloudtrail_events").iterdir())
    assert partitions == [f"event_date=2026-01-{day:02d}" for day in range(5, 10)]
    mismatched = demo_lake.read(
        "select count(*) from cloudtrail_events "
        "where event_date <> cast(timezone('UTC', event_time) as date)"
    )
    assert mismatched == [(0,)]


def test_contract_columns_are_present(demo_lake: Workspace) -> None:
    columns = {row[0] for row in demo_lake.read("describe cloudtrail_events")}
    contract = {
        "event_id",
        "event_time",
        "event_date",
        "event_version",
        "event_source",
        "event_name",
        "event_type",
        "event_category",
        "aws_region",
        "recipient_account_id",
        "source_ip_address",
        "user_agent",
        "error_code",
        "error_message",
        "read_only",
        "management_event",
        "request_id",
        "shared_event_id",
        "vpc_endpoint_id",
        "user_identity",
        "principal_type",
        "principal_arn",
        "principal_id",
        "principal_name",
        "account_id",
        "access_key_id",
        "session_mfa",
        "session_issuer_arn",
        "request_parameters",
        "response_elements",
        "additional_event_data",
        "resources",
        "tls_version",
        "ips",
        "source_object",
        "raw",
    }
    assert contract <= columns


def test_raw_keeps_the_original_record(demo_lake: Workspace) -> None:
    (raw, event_id, name, principal) = demo_lake.read(
        "select raw, event_id, event_name, principal_name from cloudtrail_events "
        "where principal_type = 'AssumedRole' limit 1"
    )[0]
    record = json.loads(raw)
    assert record["eventID"] == event_id and record["eventName"] == name
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == principal


def test_attack_scenarios_reach_the_lake(demo_lake: Workspace) -> None:
    wanted = sorted(set().union(*demo_scenarios(demo_lake).values()))
    found = demo_lake.read(
        "select count(*) from cloudtrail_events where list_contains(?, event_id)", [wanted]
    )
    assert found == [(len(wanted),)]
    root = demo_lake.read(
        "select principal_name, session_mfa from cloudtrail_events "
        "where principal_type = 'Root' and event_name = 'ConsoleLogin'"
    )
    assert root == [("root", True)]


def test_event_shell_rates_and_summarizes_the_attack_scenarios(demo_lake: Workspace) -> None:
    (root_login,) = demo_scenarios(demo_lake)["root-console-login"]
    rows = demo_lake.catalog(
        "select source, category, severity, summary, tags, year, month, "
        f"json_extract_string(details, '$.event_name') from events where event_id = '{root_login}'"
    )
    assert len(rows) == 1
    source, category, severity, summary, tags, year, month, detail_name = rows[0]
    assert (source, category, severity) == ("cloudtrail", "authentication", "high")
    assert summary.startswith("root authenticated with ConsoleLogin from ")
    assert {"root", "console"} <= set(tags)
    assert (year, detail_name) == (2026, "ConsoleLogin") and month == 1
    stop_logging = demo_lake.catalog(
        "select severity, category from events where summary like '%StopLogging%'"
    )
    assert stop_logging and all(row == ("high", "logging") for row in stop_logging)
    # Every event has the shell's required columns, and reads are mostly `info`.
    (every, categorized, summarized, rated, cloudtrail) = demo_lake.catalog(
        "select count(*), count(category), count(summary), count(severity), "
        "count(*) filter (where source = 'cloudtrail') from events"
    )[0]
    assert every == categorized == summarized == rated and cloudtrail == DEMO["events"]
    assert demo_lake.catalog("select count(*) from events where summary like '%{%'") == [(0,)]


def test_ecs_and_ocsf_views_use_the_standard_field_names(demo_lake: Workspace) -> None:
    ecs = demo_lake.catalog(
        'select "event.action", "cloud.provider", "ecs.version", "source.ip" '
        "from events_ecs where \"event.action\" = 'ConsoleLogin' limit 1"
    )
    assert ecs and ecs[0][:3] == ("ConsoleLogin", "aws", "8.11.0")
    (api_calls,) = demo_lake.catalog(
        "select count(*) from ocsf_api_activity where class_uid = 6003 "
        "and type_uid = 600300 + activity_id"
    )[0]
    assert api_calls > DEMO["events"] * 2 // 3
    (logons, mfa_known) = demo_lake.catalog(
        "select count(*), count(is_mfa) from ocsf_authentication where type_uid = 300201"
    )[0]
    assert logons > 0 and mfa_known > 0
    changes = dict(
        demo_lake.catalog(
            'select "metadata.uid", activity_id from ocsf_account_change where class_uid = 3001'
        )
    )
    (key_event,) = demo_scenarios(demo_lake)["create-access-key-other-user"]
    assert changes[key_event] == 1  # Create


def test_rerun_changes_nothing(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    before = content_digest(ws)
    run_ingest(ws, "demo")
    run_dbt(ws, *BUILD)
    assert content_digest(ws) == before


def test_duplicate_delivery_appears_once(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    (raw,) = ws.read("select raw from cloudtrail_events limit 1")[0]
    write_delivery_file(tmp_path / "redelivered.json.gz", [json.loads(raw)])
    run_ingest(ws, "load", "cloudtrail", tmp_path / "redelivered.json.gz")
    run_dbt(ws, "build", "--select", "cloudtrail_events")
    assert ws.read("select count(*), count(distinct event_id) from cloudtrail_events") == [
        (DEMO["events"], DEMO["events"])
    ]


def test_stratus_fixtures_normalize(stratus_lake: Workspace) -> None:
    detonations = "source_object like '%/stratus/aws.%.jsonl'"
    by_type = dict(
        stratus_lake.read(
            f"select principal_type, count(*) from cloudtrail_events where {detonations} group by 1"
        )
    )
    assert by_type == {"IAMUser": 206, "AssumedRole": 22, "FederatedUser": 1}
    assert stratus_lake.read(
        "select count(*) from cloudtrail_events where principal_name is null"
    ) == [(0,)]


SOURCES = ("cloudtrail", "access-log", "custom")


@pytest.mark.parametrize(
    "present",
    [tuple(s for i, s in enumerate(SOURCES) if mask >> i & 1) for mask in range(2**3)],
    ids=lambda present: "+".join(present) or "nothing",
)
def test_every_combination_of_landed_sources_builds(workspace: Workspace, present) -> None:
    """A web-only lake, a lake whose CloudTrail was all quarantined, a fresh clone: whatever
    subset of sources has landed, the build is green and each dataset holds what landed."""
    ws = workspace
    config = ws.root / "trailhouse.yml"
    config.write_text(
        "formats:\n  app:\n    type: regex\n    pattern: '^(?P<time>\\S+) user=(?P<user>\\S+)$'\n"
    )
    ws.env["TRAILHOUSE_CONFIG"] = str(config)
    inputs = {
        "cloudtrail": write_delivery_file(ws.root / "ct.json.gz", [cloudtrail_record("ct-1")]),
        "access-log": ws.root / "access.log",
        "custom": ws.root / "app.log",
    }
    inputs["access-log"].write_text(
        '192.0.2.10 - - [01/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n'
    )
    inputs["custom"].write_text("2026-01-01T10:00:00Z user=alice\n")
    for source in present:
        extra = ["--format", "app"] if source == "custom" else []
        run_ingest(ws, "load", source, *extra, inputs[source])
    # `dbt build` with the unit tests of the models that read the landing zone (the others do
    # not depend on what landed; test_dbt_unit_tests runs them all)
    out = run_dbt(
        ws,
        "build",
        "--exclude",
        *(
            f"test_type:unit,path:models/{layer}"
            for layer in ("intermediate", "marts", "detections")
        ),
    )
    assert re.search(r"PASS=\d+ WARN=0 ERROR=0 SKIP=0", out) and "stg_cloudtrail__events::" in out
    datasets = {"cloudtrail": "cloudtrail_events", "access-log": "http_access_log",
                "custom": "custom_logs"}  # fmt: skip
    reader = LakeReader(ws.lake)
    for source, dataset in datasets.items():
        built = (ws.lake / dataset).is_dir() and any((ws.lake / dataset).glob("*/*.parquet"))
        rows = reader.scalar(f"select count(*) from {dataset}") if built else 0
        assert rows == (1 if source in present else 0), (source, present)
