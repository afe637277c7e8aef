"""`ingest demo`: deterministic, realistic CloudTrail in the S3 delivery layout, with attacks."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ingest.sources.demo import DemoSpec, generate

from conftest import LakeReader

KEY = re.compile(
    r"^AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z]{2}-[a-z]+-\d)/"
    r"(?P<date>\d{4}/\d{2}/\d{2})/(?P=account)_CloudTrail_(?P=region)_"
    r"(?P<ts>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
SPEC = DemoSpec(events=4000, days=3, accounts=3, seed=11, end="2026-01-10T00:00:00Z")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], dict]:
    directory = tmp_path_factory.mktemp("demo")
    generate(SPEC, directory)
    records: list[dict] = []
    files: dict[str, list[dict]] = {}
    for path in sorted((directory / "AWSLogs").rglob("*.json.gz")):
        key = path.relative_to(directory).as_posix()
        if "CloudTrail-Digest" in key:
            continue
        batch = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        files[key] = batch
        records.extend(batch)
    return directory, records, files


def tree_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(directory).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_spec_gives_identical_bytes(tmp_path: Path, dataset) -> None:
    directory, _, _ = dataset
    generate(SPEC, tmp_path / "again")
    assert tree_digest(tmp_path / "again") == tree_digest(directory)


def test_record_count_and_unique_ids(dataset) -> None:
    _, records, _ = dataset
    assert len(records) == SPEC.events
    assert len({r["eventID"] for r in records}) == SPEC.events


def test_s3_delivery_layout_with_five_minute_files(dataset) -> None:
    _, _, files = dataset
    accounts, regions = set(), set()
    for key, batch in files.items():
        match = KEY.match(key)
        assert match, key
        accounts.add(match["account"])
        regions.add(match["region"])
        times = [datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")) for r in batch]
        assert max(times) - min(times) < timedelta(minutes=5)
        delivered = datetime.strptime(match["ts"], "%Y%m%dT%H%MZ")
        assert delivered >= max(times).replace(tzinfo=None) - timedelta(minutes=1)
        assert {r["recipientAccountId"] for r in batch} == {match["account"]}
        assert {r["awsRegion"] for r in batch} == {match["region"]}
    assert len(accounts) == SPEC.accounts
    assert len(regions) >= 2


def test_digest_files_are_present(dataset) -> None:
    directory, _, _ = dataset
    digests = list((directory / "AWSLogs").rglob("*CloudTrail-Digest*.json.gz"))
    assert len(digests) == SPEC.accounts * SPEC.days
    assert "Records" not in json.loads(gzip.decompress(digests[0].read_bytes()))


def test_events_stay_inside_the_requested_range(dataset) -> None:
    _, records, _ = dataset
    times = [r["eventTime"] for r in records]
    assert min(times) >= "2026-01-07T00:00:00Z"
    assert max(times) < "2026-01-10T00:00:00Z"


def test_realistic_mix_of_principals_services_reads_and_errors(dataset) -> None:
    _, records, _ = dataset
    types = Counter(r["userIdentity"]["type"] for r in records)
    assert set(types) >= {
        "Root",
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "FederatedUser",
        "AWSAccount",
        "IdentityCenterUser",
    }
    read_share = sum(r["readOnly"] for r in records) / len(records)
    assert 0.7 < read_share < 0.97
    errors = Counter(r.get("errorCode") for r in records if r.get("errorCode"))
    assert {"AccessDenied", "Client.UnauthorizedOperation"} <= set(errors)
    assert 0.01 < sum(errors.values()) / len(records) < 0.1
    assert len({r["eventSource"] for r in records}) >= 15
    logins = [r for r in records if r["eventName"] == "ConsoleLogin"]
    assert logins and all(r["eventSource"] == "signin.amazonaws.com" for r in logins)
    on_behalf = [r for r in records if r["userIdentity"].get("invokedBy")]
    assert any(r["userIdentity"]["type"] != "AWSService" for r in on_behalf)


def test_attack_scenarios_are_labelled_and_present(dataset) -> None:
    directory, records, _ = dataset
    by_id = {r["eventID"]: r for r in records}
    scenarios = {s["scenario"]: s for s in json.loads((directory / "scenarios.json").read_text())}
    assert set(scenarios) == {
        "recon-access-denied-burst",
        "assume-role-new-ip",
        "create-access-key-other-user",
        "cloudtrail-stop-and-delete",
        "guardduty-detector-deleted",
        "s3-bucket-made-public",
        "security-group-open-to-world",
        "kms-key-scheduled-deletion",
        "root-console-login",
        "console-login-without-mfa",
    }
    for scenario in scenarios.values():
        assert scenario["event_ids"] and all(e in by_id for e in scenario["event_ids"])

    def events(name: str) -> list[dict]:
        return [by_id[e] for e in scenarios[name]["event_ids"]]

    burst = events("recon-access-denied-burst")
    assert sum(r.get("errorCode") == "AccessDenied" for r in burst) >= 30
    assert len({r["userIdentity"]["arn"] for r in burst}) == 1
    assert [r["eventName"] for r in events("cloudtrail-stop-and-delete")] == [
        "StopLogging",
        "DeleteTrail",
    ]
    (key,) = events("create-access-key-other-user")
    assert key["requestParameters"]["userName"] != key["userIdentity"].get("userName")
    (sg,) = events("security-group-open-to-world")
    assert "0.0.0.0/0" in json.dumps(sg["requestParameters"])
    (root,) = events("root-console-login")
    assert root["userIdentity"]["type"] == "Root" and root["eventName"] == "ConsoleLogin"
    (no_mfa,) = events("console-login-without-mfa")
    assert no_mfa["additionalEventData"]["MFAUsed"] == "No"
    (assume,) = events("assume-role-new-ip")
    background_ips = {
        r["sourceIPAddress"]
        for r in records
        if r["eventID"] not in {e for s in scenarios.values() for e in s["event_ids"]}
    }
    assert assume["sourceIPAddress"] not in background_ips
    assert [r["eventName"] for r in events("kms-key-scheduled-deletion")] == ["ScheduleKeyDeletion"]
    assert [r["eventName"] for r in events("guardduty-detector-deleted")] == ["DeleteDetector"]
    assert {r["eventName"] for r in events("s3-bucket-made-public")} == {
        "PutBucketPolicy",
        "PutBucketAcl",
    }


def test_benign_look_alikes_are_labelled_and_present_every_day(dataset) -> None:
    directory, records, _ = dataset
    by_id = {r["eventID"]: r for r in records}
    episodes = json.loads((directory / "benign.json").read_text())
    kinds = Counter(e["episode"] for e in episodes)
    assert kinds == {
        "security-audit-scan": SPEC.days, "iac-apply": SPEC.days, "ci-lambda-deploy": SPEC.days,
        "sso-admin-provisions-service-user": SPEC.days, "aws-services-acting": SPEC.days,
        "iac-destroy": SPEC.days // 2,
    }  # fmt: skip
    for episode in episodes:
        assert episode["event_ids"] and all(e in by_id for e in episode["event_ids"])

    def events(kind: str) -> list[dict]:
        return [by_id[e] for x in episodes if x["episode"] == kind for e in x["event_ids"]]

    # infrastructure as code runs as the CI user with Terraform's user agent
    assert {r["userAgent"] for r in events("iac-apply")} == {
        by_id[episodes[1]["event_ids"][0]]["userAgent"]
    }
    assert all("Terraform/" in r["userAgent"] for r in events("iac-destroy"))
    # the audit reads every region and never writes
    audit = events("security-audit-scan")
    assert all(r["readOnly"] for r in audit) and len({r["awsRegion"] for r in audit}) >= 6
    # AWS services act through their service-linked roles
    acting = events("aws-services-acting")
    assert {r["userIdentity"]["invokedBy"] for r in acting} == {
        "autoscaling.amazonaws.com", "backup.amazonaws.com",
    }  # fmt: skip
    attacks = {e for s in json.loads((directory / "scenarios.json").read_text())
               for e in s["event_ids"]}  # fmt: skip
    assert attacks.isdisjoint(e for x in episodes for e in x["event_ids"])


def test_demo_command_lands_everything_and_reruns_as_a_no_op(lake: Path, ingest) -> None:
    first = ingest("demo", "--events", "1500", "--days", "2", "--end", "2026-01-10")
    assert "Generated 1,500 CloudTrail records" in first.output
    files = sorted((lake / "landing" / "cloudtrail").rglob("*.parquet"))
    assert (
        LakeReader(lake).scalar("select count(distinct event_id) from landing_cloudtrail") == 1500
    )

    again = ingest("demo")
    assert "already generated" in again.output
    assert sorted((lake / "landing" / "cloudtrail").rglob("*.parquet")) == files

    different = ingest("demo", "--events", "1600", expect=2)
    assert "--replace" in different.output

    ingest("demo", "--events", "1600", "--days", "2", "--end", "2026-01-10", "--replace")
    ((count, distinct),) = LakeReader(lake).rows(
        "select count(*), count(distinct event_id) from landing_cloudtrail"
    )
    assert count == distinct == 1600


def test_an_interrupted_demo_is_regenerated_not_mixed(lake: Path, ingest) -> None:
    ingest("demo", "--events", "1500", "--days", "2", "--end", "2026-01-10")
    # As if a later run had been killed half-way through writing its files.
    (lake / "_sources" / "demo" / ".generating").touch()

    result = ingest("demo", "--events", "1500", "--days", "2", "--end", "2026-02-10")

    assert "Removed the incomplete demo dataset" in result.output
    ((count, distinct, first),) = LakeReader(lake).rows(
        "select count(*), count(distinct event_id), min(event_time) from landing_cloudtrail"
    )
    assert count == distinct == 1500
    assert first.isoformat() >= "2026-02-08"
