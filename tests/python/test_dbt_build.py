"""End to end: `ingest` lands, `dbt build` (models, unit tests, data tests) writes the lake.

These run the real dbt CLI in a subprocess against a throwaway lake and DuckDB file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ingest.cli import app
from ingest.duck import sql_string

from conftest import DBT, PROJECT_ROOT, cloudtrail_record, write_delivery_file


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lake = root / "lake"
        self.env = {
            **os.environ,
            "TRAILHOUSE_LAKE": str(self.lake),
            "TRAILHOUSE_DB": str(root / "trailhouse.duckdb"),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
            "DO_NOT_TRACK": "1",
        }

    def ingest(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(DBT), *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result

    def query(self, sql: str) -> list[tuple]:
        # Read the lake the way any engine would: Parquet files, no dbt, no catalog.
        pattern = sql_string(f"{self.lake}/cloudtrail_events/*/*.parquet")
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"create view cloudtrail_events as select * from read_parquet({pattern})")
        return con.execute(sql).fetchall()

    def catalog(self, sql: str) -> list[tuple]:
        """Query the views dbt built (events, the ECS and OCSF views) in the DuckDB file."""
        con = duckdb.connect(self.env["TRAILHOUSE_DB"], read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def content_digest(self) -> str:
        rows = self.query("select * exclude (landed_at) from cloudtrail_events order by event_id")
        return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("e2e"))
    ws.ingest("demo", "--events", "3000", "--days", "3", "--end", "2026-01-10T00:00:00Z")
    ws.dbt("build")
    return ws


def test_lake_holds_every_generated_event_once(demo_lake: Workspace) -> None:
    (rows, distinct) = demo_lake.query(
        "select count(*), count(distinct event_id) from cloudtrail_events"
    )[0]
    assert rows == distinct == 3000


def test_lake_is_hive_partitioned_by_event_date(demo_lake: Workspace) -> None:
    partitions = sorted(p.name for p in (demo_lake.lake / "cloudtrail_events").iterdir())
    assert partitions == ["event_date=2026-01-07", "event_date=2026-01-08", "event_date=2026-01-09"]
    mismatched = demo_lake.query(
        "select count(*) from cloudtrail_events "
        "where event_date <> cast(timezone('UTC', event_time) as date)"
    )
    assert mismatched == [(0,)]


def test_contract_columns_are_present(demo_lake: Workspace) -> None:
    columns = {row[0] for row in demo_lake.query("describe cloudtrail_events")}
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
    (raw, event_id, name, principal) = demo_lake.query(
        "select raw, event_id, event_name, principal_name from cloudtrail_events "
        "where principal_type = 'AssumedRole' limit 1"
    )[0]
    record = json.loads(raw)
    assert record["eventID"] == event_id and record["eventName"] == name
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == principal


def test_attack_scenarios_reach_the_lake(demo_lake: Workspace) -> None:
    scenarios = json.loads((demo_lake.lake / "_sources/demo/scenarios.json").read_text())
    wanted = [e for s in scenarios for e in s["event_ids"]]
    found = demo_lake.query(
        f"select count(*) from cloudtrail_events where event_id in {tuple(wanted)}"
    )
    assert found == [(len(wanted),)]
    root = demo_lake.query(
        "select principal_name, session_mfa from cloudtrail_events "
        "where principal_type = 'Root' and event_name = 'ConsoleLogin'"
    )
    assert root == [("root", True)]


def test_event_shell_rates_and_summarizes_the_attack_scenarios(demo_lake: Workspace) -> None:
    scenarios = json.loads((demo_lake.lake / "_sources/demo/scenarios.json").read_text())
    by_label = {s["scenario"]: s["event_ids"] for s in scenarios}
    (root_login,) = by_label["root-console-login"]
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
    assert demo_lake.catalog(
        "select count(*), count(category), count(summary), count(severity) from events"
    ) == [(3000, 3000, 3000, 3000)]
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
    assert api_calls > 2000
    (logons, mfa_known) = demo_lake.catalog(
        "select count(*), count(is_mfa) from ocsf_authentication where type_uid = 300201"
    )[0]
    assert logons > 0 and mfa_known > 0
    changes = dict(
        demo_lake.catalog(
            'select "metadata.uid", activity_id from ocsf_account_change where class_uid = 3001'
        )
    )
    scenarios = json.loads((demo_lake.lake / "_sources/demo/scenarios.json").read_text())
    (key_event,) = next(
        s["event_ids"] for s in scenarios if s["scenario"] == "create-access-key-other-user"
    )
    assert changes[key_event] == 1  # Create


def test_rerun_changes_nothing(demo_lake: Workspace) -> None:
    before = demo_lake.content_digest()
    demo_lake.ingest("demo")
    demo_lake.dbt("build")
    assert demo_lake.content_digest() == before


def test_duplicate_delivery_appears_once(demo_lake: Workspace, tmp_path: Path) -> None:
    (raw,) = demo_lake.query("select raw from cloudtrail_events limit 1")[0]
    write_delivery_file(tmp_path / "redelivered.json.gz", [json.loads(raw)])
    demo_lake.ingest("load", "cloudtrail", str(tmp_path / "redelivered.json.gz"))
    demo_lake.dbt("build", "--select", "cloudtrail_events")
    assert demo_lake.query("select count(*), count(distinct event_id) from cloudtrail_events") == [
        (3000, 3000)
    ]


def test_stratus_fixtures_normalize(tmp_path: Path, stratus_dir: Path) -> None:
    ws = Workspace(tmp_path)
    ws.ingest("load", "cloudtrail", str(stratus_dir))
    ws.dbt("build")
    by_type = dict(ws.query("select principal_type, count(*) from cloudtrail_events group by 1"))
    assert by_type == {"IAMUser": 206, "AssumedRole": 22, "FederatedUser": 1}
    assert ws.query("select count(*) from cloudtrail_events where principal_name is null") == [(0,)]


def test_failing_unit_test_fails_the_build(tmp_path: Path) -> None:
    """The unit tests guard the normalization: a wrong expectation must fail `dbt build`."""
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", "target", "logs", "lake", "*.duckdb", ".git", "build"
        ),
    )
    models = project / "models/staging/cloudtrail/_cloudtrail__models.yml"
    models.write_text(models.read_text().replace("principal_name: root", "principal_name: admin"))
    ws = Workspace(tmp_path)
    write_delivery_file(tmp_path / "one.json.gz", [cloudtrail_record("e-1")])
    ws.ingest("load", "cloudtrail", str(tmp_path / "one.json.gz"))
    result = subprocess.run(
        [str(DBT), "build", "--select", "stg_cloudtrail__events"],
        cwd=project,
        env=ws.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "stg_cloudtrail__events_normalizes_root" in result.stdout
