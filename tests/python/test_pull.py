"""`ingest pull cloudtrail` against a real S3/SQS server (moto) on loopback."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError

from ingest.duck import connect
from ingest.lake import Lake
from ingest.landing import Lander
from ingest.pull import pull_bucket
from ingest.sources.s3_cloudtrail import S3CloudTrail

from conftest import (
    BUILD,
    FAKE_KEY_ID,
    FAKE_SECRET,
    INGEST,
    LakeReader,
    Workspace,
    cloudtrail_record,
    run_dbt,
)

ORG = "o-a1b2c3d4e5"
ACCOUNTS = {"111111111111": ORG, "222222222222": ORG, "333333333333": None}
REGIONS = ("us-east-1", "eu-west-1")
DAY1 = date(2026, 1, 1)


class Trail:
    """A CloudTrail bucket in the S3 delivery layout, with org-trail and plain prefixes."""

    def __init__(self, s3, bucket: str = "trail-bucket", prefix: str = "trail") -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        s3.create_bucket(Bucket=bucket)
        self.records = 0
        self.ids = count()

    def key(self, account: str, region: str, day: date, n: int, folder="CloudTrail") -> str:
        org = ACCOUNTS.get(account)
        base = f"{self.prefix}/AWSLogs/{org + '/' if org else ''}{account}/{folder}/{region}/"
        stamp = datetime(day.year, day.month, day.day, n % 24, n % 60)
        return (
            f"{base}{day:%Y/%m/%d}/{account}_{folder}_{region}_{stamp:%Y%m%dT%H%MZ}_"
            f"{n:08d}abcdEFGH.json.gz"
        )

    def body(self, day: date, records: int) -> bytes:
        batch = [
            cloudtrail_record(f"ev-{next(self.ids):07d}", when=f"{day}T10:00:00Z")
            for _ in range(records)
        ]
        self.records += records
        return gzip.compress(json.dumps({"Records": batch}).encode(), mtime=0)

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def fill(self, days: list[date], per_day: int, records: int = 2, start: int = 0) -> list[str]:
        jobs = [
            (self.key(account, region, day, n), self.body(day, records))
            for account in ACCOUNTS
            for region in REGIONS
            for day in days
            for n in range(start, start + per_day)
        ]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda job: self.put(*job), jobs))
        return [key for key, _ in jobs]


def landed_ids(lake: Path) -> list[str]:
    if not any((lake / "landing" / "cloudtrail").rglob("*.parquet")):
        return []
    return [r[0] for r in LakeReader(lake).rows("select event_id from landing_cloudtrail")]


def pull(ingest, *args: str, expect: int = 0):
    return ingest(
        "pull",
        "cloudtrail",
        "--bucket",
        "trail-bucket",
        "--prefix",
        "trail",
        "--workers",
        "8",
        *args,
        expect=expect,
    )


@pytest.mark.e2e
@pytest.mark.slow
def test_org_and_account_trails_land_every_record_then_only_new_objects(
    aws, workspace: Workspace, lake: Path, ingest
) -> None:
    trail = Trail(aws.s3)
    days = [DAY1, DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)]
    trail.fill(days, per_day=110)  # 3 accounts x 2 regions x 3 days x 110 = 1,980 objects
    digest = trail.key("111111111111", "us-east-1", DAY1, 1, folder="CloudTrail-Digest")
    trail.put(digest, gzip.compress(b'{"digestStartTime": "x"}'))
    trail.put(f"trail/AWSLogs/333333333333/CloudTrail/us-east-1/{DAY1:%Y/%m/%d}/notes.txt", b"x")

    first = pull(ingest, "--from", "2026-01-01", "--to", "2026-01-03")

    assert "Listed 18 day folder(s) in 6 account/region folder(s)" in first.output
    assert "1 not CloudTrail log files" in first.output
    ids = landed_ids(lake)
    assert len(ids) == len(set(ids)) == trail.records == 3960

    second = pull(ingest, "--from", "2026-01-01", "--to", "2026-01-03")
    assert "1,980 already landed · 0 downloaded" in second.output
    assert len(landed_ids(lake)) == 3960

    added = [trail.key("333333333333", "eu-west-1", days[2], 500 + n) for n in range(10)]
    for key in added:
        trail.put(key, trail.body(days[2], 1))
    third = pull(ingest, "--to", "2026-01-04")  # continues from the saved state
    # Jan 3 again (the cursor day), Jan 1-2 (the lookback for late files) and Jan 4
    assert "Listed 24 day folder(s)" in third.output
    assert "· 10 downloaded" in third.output
    assert len(landed_ids(lake)) == 3970

    run_dbt(workspace, *BUILD)
    ((rows,),) = workspace.read("select count(*) from cloudtrail_events")
    assert rows == trail.records


def test_first_run_collects_the_last_seven_days(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    today = datetime.now(UTC).date()
    trail.fill([today - timedelta(days=n) for n in range(9)], per_day=1, records=1)

    result = pull(ingest, "--account", "333333333333")

    assert "Listed 14 day folder(s) in 2 account/region folder(s)" in result.output
    assert len(landed_ids(lake)) == 2 * 7


def test_insight_files_only_when_asked(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    trail.fill([DAY1], per_day=1, records=1)
    insight = trail.key("333333333333", "us-east-1", DAY1, 7, folder="CloudTrail-Insight")
    trail.put(insight, trail.body(DAY1, 4))
    window = ("--from", "2026-01-01", "--to", "2026-01-01", "--account", "333333333333")

    pull(ingest, *window)
    assert len(landed_ids(lake)) == 2
    pull(ingest, *window, "--insights")
    assert len(landed_ids(lake)) == 2 + 4


def test_lists_only_the_requested_day_prefixes(aws, lake: Path) -> None:
    trail = Trail(aws.s3)
    trail.fill([DAY1, DAY1 + timedelta(days=5)], per_day=2)
    listed: list[tuple[str, str | None]] = []
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2",
        lambda params, **_: listed.append((params["Prefix"], params.get("Delimiter"))),
    )
    source = S3CloudTrail(s3, "trail-bucket", "trail", regions=("eu-west-1",))
    con = connect(Lake.from_env())

    summary = pull_bucket(
        source, Lander(Lake.from_env(), con), start=DAY1, end=DAY1 + timedelta(days=1), workers=4
    )

    full_listings = sorted(prefix for prefix, delimiter in listed if delimiter is None)
    assert full_listings == sorted(
        f"trail/AWSLogs/{org + '/' if org else ''}{account}/CloudTrail/eu-west-1/2026/01/{d}/"
        for account, org in ACCOUNTS.items()
        for d in ("01", "02")
    )
    # Discovery used delimiter listings only, from the AWSLogs/ root down.
    assert all(prefix.startswith("trail/AWSLogs/") for prefix, _ in listed)
    assert summary.downloaded == 3 * 2  # the Jan 6 objects were never even listed
    assert len(landed_ids(lake)) == 12


def test_pagination_beyond_a_thousand_keys(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    jobs = [
        (trail.key("333333333333", "us-east-1", DAY1, n), trail.body(DAY1, 1)) for n in range(1205)
    ]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda job: trail.put(*job), jobs))

    pull(ingest, "--from", "2026-01-01", "--to", "2026-01-01", "--account", "333333333333")

    assert len(landed_ids(lake)) == 1205


def test_hostile_keys_are_data_not_paths(aws, tmp_path: Path, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    day = f"trail/AWSLogs/333333333333/CloudTrail/us-east-1/{DAY1:%Y/%m/%d}/"
    name = "333333333333_CloudTrail_us-east-1_20260101T0000Z_{}.json.gz"
    hostile = [
        day + "../../../../../../../../../tmp/" + name.format("evil1"),
        day + "/" + name.format("evil2"),
        day + "%2e%2e/\u202e\t odd ;$(x)/" + name.format("evil3"),
    ]
    for key in hostile:
        trail.put(key, trail.body(DAY1, 1))
    trail.put(day + "..%2F..%2F/" + name.format("corrupt"), b"\x1f\x8b broken")
    before = {p for p in tmp_path.rglob("*") if "lake" not in p.parts}

    result = pull(ingest, "--from", "2026-01-01", "--to", "2026-01-01")

    assert len(landed_ids(lake)) == 3
    sources = LakeReader(lake).rows("select distinct source_object from landing_cloudtrail")
    assert {s for (s,) in sources} == {f"s3://trail-bucket/{key}" for key in hostile}
    assert {p for p in tmp_path.rglob("*") if "lake" not in p.parts} == before
    for key in hostile:  # where a key used as a path would have written
        assert not (lake / "landing" / key).resolve().exists()
        assert not (lake.parent / key).resolve().exists()
    quarantine = lake / "_quarantine" / "cloudtrail"
    assert all(p.resolve().parent == quarantine.resolve() for p in quarantine.iterdir())
    assert "Quarantined 1 input(s)" in result.output


def test_transient_failures_are_retried_and_a_failed_object_is_collected_next_run(
    aws, lake: Path
) -> None:
    trail = Trail(aws.s3)
    keys = trail.fill([DAY1], per_day=3)
    flaky, broken = keys[0], keys[1]
    attempts = {flaky: 0, broken: 0}

    def inject(request, **_):
        for key, failures in ((flaky, 2), (broken, 99)):
            if request.url.endswith(key) and request.method == "GET":
                attempts[key] += 1
                if attempts[key] <= failures:
                    raise ConnectionClosedError(endpoint_url=request.url)
        return None

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.meta.events.register("before-send.s3.GetObject", inject)
    lake_ = Lake.from_env()
    first = pull_bucket(
        S3CloudTrail(s3, "trail-bucket", "trail"),
        Lander(lake_, connect(lake_)),
        start=DAY1,
        end=DAY1 + timedelta(days=3),
        workers=4,
    )
    assert attempts[flaky] == 3  # failed twice, then succeeded
    assert [uri for uri, _ in first.failed] == [f"s3://trail-bucket/{broken}"]
    assert not first.ok
    assert len(landed_ids(lake)) == 2 * (len(keys) - 1)

    # The next run, with no --from, goes back to the failed day and collects the object.
    second = pull_bucket(
        S3CloudTrail(boto3.client("s3", region_name="us-east-1"), "trail-bucket", "trail"),
        Lander(lake_, connect(lake_)),
        start=None,
        end=DAY1 + timedelta(days=3),
        workers=4,
    )
    assert second.ok and second.downloaded == 1
    assert len(landed_ids(lake)) == 2 * len(keys)


def _send(sqs, url: str, body: dict | str) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))


def _queue_depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_sqs_notifications_land_objects_and_delete_only_handled_messages(
    aws, lake: Path, ingest
) -> None:
    trail = Trail(aws.s3, prefix="my trail")
    k = [trail.key("333333333333", "us-east-1", DAY1, n) for n in range(4)]
    for key in k:
        trail.put(key, trail.body(DAY1, 2))
    url = aws.sqs.create_queue(QueueName="trail-notifications")["QueueUrl"]
    cloudtrail_note = {"s3Bucket": "trail-bucket", "s3ObjectKey": [k[0], k[1]]}
    _send(aws.sqs, url, {"Type": "Notification", "Message": json.dumps(cloudtrail_note)})
    _send(aws.sqs, url, {"s3Bucket": "trail-bucket", "s3ObjectKey": [k[2]]})
    _send(
        aws.sqs,
        url,
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": "trail-bucket"},
                        "object": {"key": k[3].replace(" ", "+")},
                    },
                }
            ]
        },
    )
    _send(aws.sqs, url, {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "trail-bucket"})
    _send(
        aws.sqs,
        url,
        {
            "s3Bucket": "trail-bucket",
            "s3ObjectKey": [
                "my trail/AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2026/01/01/"
                "333333333333_CloudTrail-Digest_us-east-1_t_us-east-1_20260101T000000Z.json.gz"
            ],
        },
    )
    _send(aws.sqs, url, "this is not a notification")
    _send(
        aws.sqs,
        url,
        {
            "s3Bucket": "trail-bucket",
            "s3ObjectKey": [trail.key("333333333333", "us-east-1", DAY1, 99)],
        },
    )  # never uploaded

    result = ingest("pull", "cloudtrail", "--sqs-queue-url", url, "--wait-seconds", "0", expect=1)

    assert sorted(landed_ids(lake)) == [f"ev-{n:07d}" for n in range(8)]
    assert "7 received · 5 deleted · 2 kept in the queue" in result.output
    assert "not an S3 or CloudTrail object notification" not in result.output
    assert "message body is not JSON" in result.output
    assert _queue_depth(aws.sqs, url) == 2


def test_sqs_no_delete_keeps_every_message(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    key = trail.key("333333333333", "us-east-1", DAY1, 1)
    trail.put(key, trail.body(DAY1, 3))
    url = aws.sqs.create_queue(QueueName="keep")["QueueUrl"]
    _send(aws.sqs, url, {"s3Bucket": "trail-bucket", "s3ObjectKey": [key]})

    ingest("pull", "cloudtrail", "--sqs-queue-url", url, "--wait-seconds", "0", "--no-delete")

    assert len(landed_ids(lake)) == 3
    assert _queue_depth(aws.sqs, url) == 1


def test_sqs_max_messages_bounds_a_run(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    url = aws.sqs.create_queue(QueueName="bounded")["QueueUrl"]
    for n in range(3):
        key = trail.key("333333333333", "us-east-1", DAY1, n)
        trail.put(key, trail.body(DAY1, 1))
        _send(aws.sqs, url, {"s3Bucket": "trail-bucket", "s3ObjectKey": [key]})

    result = ingest(
        "pull", "cloudtrail", "--sqs-queue-url", url, "--wait-seconds", "0", "--max-messages", "2"
    )

    assert "2 received · 2 deleted" in result.output
    assert len(landed_ids(lake)) == 2
    assert _queue_depth(aws.sqs, url) == 1


@pytest.mark.e2e
def test_lake_on_s3_with_dbt_s3_target(aws, tmp_path: Path, monkeypatch, ingest) -> None:
    trail = Trail(aws.s3)
    trail.fill([DAY1, DAY1 + timedelta(days=1)], per_day=5)
    aws.s3.create_bucket(Bucket="lake-bucket")
    monkeypatch.setenv("TRAILHOUSE_LAKE", "s3://lake-bucket/lake")

    pull(ingest, "--from", "2026-01-01", "--to", "2026-01-02")
    again = pull(ingest, "--from", "2026-01-01", "--to", "2026-01-02")
    assert "0 downloaded" in again.output

    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "TRAILHOUSE_LAKE": "s3://lake-bucket/lake",
        "TRAILHOUSE_DB": str(tmp_path / "s3.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DO_NOT_TRACK": "1",
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": aws.endpoint,
    }
    # a subprocess: its whole output, debug log included, is checked for the credentials
    output = run_dbt(Workspace(tmp_path, env), *BUILD, "--target", "s3", "--debug", isolated=True)

    keys = [
        o["Key"]
        for page in aws.s3.get_paginator("list_objects_v2").paginate(
            Bucket="lake-bucket", Prefix="lake/cloudtrail_events/"
        )
        for o in page.get("Contents", [])
    ]
    assert {k.split("/")[2] for k in keys} == {"event_date=2026-01-01", "event_date=2026-01-02"}
    con = connect(Lake.from_env())
    (rows,) = con.execute(
        "select count(distinct event_id) from "
        "read_parquet('s3://lake-bucket/lake/cloudtrail_events/*/*.parquet')"
    ).fetchone()
    assert rows == trail.records == 3 * 2 * 2 * 5 * 2
    status = ingest("status", "--json")
    assert json.loads(status.output)["datasets"]["cloudtrail_events"]["rows"] == rows

    logs = "".join(p.read_text() for p in (tmp_path / "logs").rglob("*.log"))
    for secret in (FAKE_SECRET, FAKE_KEY_ID):
        assert secret not in output + logs


def test_credentials_never_appear_in_output(aws, lake: Path, tmp_path: Path) -> None:
    trail = Trail(aws.s3)
    trail.fill([DAY1], per_day=1)
    aws.s3.create_bucket(Bucket="lake-bucket")
    ingest_bin = INGEST
    pull_one_day = [ingest_bin, "pull", "cloudtrail", "--bucket", "trail-bucket"]
    pull_one_day += ["--prefix", "trail", "--from", "2026-01-01", "--to", "2026-01-01"]
    missing_bucket = [ingest_bin, "pull", "cloudtrail", "--bucket", "no-such-bucket"]
    local = dict(os.environ)
    # A lake on S3 puts the credentials into a DuckDB secret: the riskiest path.
    on_s3 = {**os.environ, "TRAILHOUSE_LAKE": "s3://lake-bucket/lake"}
    runs = [
        (pull_one_day, local, 0),
        (missing_bucket, local, 1),
        ([ingest_bin, "status"], local, 0),
        (pull_one_day, on_s3, 0),
        ([ingest_bin, "status"], on_s3, 0),
        (missing_bucket, on_s3, 1),
    ]
    for args, env, code in runs:
        result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
        output = result.stdout + result.stderr
        assert result.returncode == code, output
        assert FAKE_SECRET not in output and FAKE_KEY_ID not in output
        if code:
            assert "NoSuchBucket" in output


def test_same_key_in_two_buckets_lands_both_objects(aws, lake: Path, ingest) -> None:
    first, second = Trail(aws.s3, "bucket-a"), Trail(aws.s3, "bucket-b")
    key = first.key("333333333333", "us-east-1", DAY1, 1)
    first.put(key, first.body(DAY1, 2))
    second.ids = count(100)
    second.put(key, second.body(DAY1, 3))
    url = aws.sqs.create_queue(QueueName="two-buckets")["QueueUrl"]
    _send(aws.sqs, url, {"s3Bucket": "bucket-a", "s3ObjectKey": [key]})
    _send(aws.sqs, url, {"s3Bucket": "bucket-b", "s3ObjectKey": [key, key]})

    ingest("pull", "cloudtrail", "--sqs-queue-url", url, "--wait-seconds", "0")

    assert sorted(landed_ids(lake)) == [
        "ev-0000000",
        "ev-0000001",
        "ev-0000100",
        "ev-0000101",
        "ev-0000102",
    ]


def test_malformed_notification_is_kept_and_the_rest_lands(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    key = trail.key("333333333333", "us-east-1", DAY1, 1)
    trail.put(key, trail.body(DAY1, 2))
    url = aws.sqs.create_queue(QueueName="malformed")["QueueUrl"]
    _send(
        aws.sqs,
        url,
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"object": {"key": key}},
                }
            ]
        },
    )
    _send(aws.sqs, url, {"s3Bucket": "trail-bucket", "s3ObjectKey": [7]})
    _send(aws.sqs, url, {"s3Bucket": "trail-bucket", "s3ObjectKey": [key]})

    result = ingest("pull", "cloudtrail", "--sqs-queue-url", url, "--wait-seconds", "0", expect=1)

    assert "malformed notification" in result.output
    assert len(landed_ids(lake)) == 2
    assert _queue_depth(aws.sqs, url) == 2


def _cursor(lake: Path) -> dict[str, str]:
    (path,) = (lake / "_state" / "cloudtrail" / "cursors").glob("*.json")
    return json.loads(path.read_text())["leaves"]


def test_a_failure_never_moves_the_cursor_over_uncollected_days(aws, lake: Path) -> None:
    trail = Trail(aws.s3)
    account, region = "333333333333", "us-east-1"
    gap = trail.key(account, region, DAY1 + timedelta(days=14), 1)
    trail.put(gap, trail.body(DAY1, 1))
    bad = trail.key(account, region, DAY1 + timedelta(days=21), 1)
    trail.put(bad, trail.body(DAY1, 1))
    lake_ = Lake.from_env()

    def run(start, end, s3=None):
        source = S3CloudTrail(
            s3 or boto3.client("s3", region_name="us-east-1"),
            "trail-bucket",
            "trail",
            accounts=(account,),
        )
        return pull_bucket(source, Lander(lake_, connect(lake_)), start=start, end=end, workers=2)

    run(DAY1, DAY1 + timedelta(days=9))  # cursor: Jan 10
    failing = boto3.client("s3", region_name="us-east-1")

    def deny(request, **_):
        if request.url.endswith(bad):
            raise ConnectionClosedError(endpoint_url=request.url)

    failing.meta.events.register("before-send.s3.GetObject", deny)
    # A disjoint backfill (Jan 20-25) with a failure on Jan 22 must not move the cursor.
    assert not run(DAY1 + timedelta(days=19), DAY1 + timedelta(days=24), failing).ok
    assert set(_cursor(lake).values()) == {"2026-01-10"}

    run(None, DAY1 + timedelta(days=24))  # resumes at Jan 10: the Jan 15 object is collected
    assert len(landed_ids(lake)) == 2


def test_the_cursor_never_passes_today(aws, lake: Path, ingest) -> None:
    trail = Trail(aws.s3)
    trail.fill([datetime.now(UTC).date()], per_day=1, records=1)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)

    pull(ingest, "--account", "333333333333", "--to", tomorrow.isoformat())

    assert set(_cursor(lake).values()) == {datetime.now(UTC).date().isoformat()}
    assert "--from is after --to" in pull(ingest, "--from", tomorrow.isoformat(), expect=2).output


def test_a_file_delivered_late_for_yesterday_is_collected(aws, lake: Path, ingest) -> None:
    """CloudTrail delivers a file keyed under a day after that day is over (at every
    midnight): the next pull lists the days before its cursor again and collects it; what
    was landed already is known by key and ETag, not fetched twice."""
    trail = Trail(aws.s3)
    yesterday, today = DAY1, DAY1 + timedelta(days=1)
    trail.fill([yesterday, today], per_day=1, records=1)
    pull(ingest, "--account", "333333333333", "--to", today.isoformat())
    assert set(_cursor(lake).values()) == {today.isoformat()}
    before = len(landed_ids(lake))

    late = trail.key("333333333333", "us-east-1", yesterday, 23)
    trail.put(late, trail.body(yesterday, 3))
    again = pull(ingest, "--account", "333333333333", "--to", today.isoformat())
    assert "· 1 downloaded" in again.output
    assert len(landed_ids(lake)) == before + 3
    # the lookback is the operator's to set: with none, the late day is not listed again
    trail.put(trail.key("333333333333", "eu-west-1", yesterday, 22), trail.body(yesterday, 1))
    pull(ingest, "--account", "333333333333", "--to", today.isoformat(), "--lookback-days", "0")
    assert len(landed_ids(lake)) == before + 3


def test_a_bucket_with_no_trail_under_the_prefix_is_a_warning_and_exit_1(
    aws, lake: Path, ingest
) -> None:
    Trail(aws.s3)  # the bucket exists, but nothing is under trail/AWSLogs/
    result = pull(ingest, "--from", "2026-01-01", "--to", "2026-01-01", expect=1)
    assert "warning: no CloudTrail folders under s3://trail-bucket/trail/" in " ".join(
        result.output.split()
    )


def test_an_object_s3_keeps_refusing_is_set_aside_after_a_day_and_collected_when_readable(
    aws, lake: Path, ingest
) -> None:
    """An archived (or denied, or deleted) object fails every run and pins its day; once it
    has been refused three times over 24 hours it is set aside (quarantined reason, a warning,
    the cursor moves on) but not recorded as landed: restored, a backfill collects it. A brief
    denial sets nothing aside, however many runs see it."""
    trail = Trail(aws.s3)
    account, region = "333333333333", "us-east-1"
    trail.fill([DAY1], per_day=2, records=1)
    archived = trail.key(account, region, DAY1, 7)
    body = trail.body(DAY1, 1)
    aws.s3.put_object(Bucket="trail-bucket", Key=archived, Body=body, StorageClass="GLACIER")
    args = ("--from", "2026-01-01", "--to", "2026-01-02", "--account", account)

    def cursor() -> str:
        return next(day for leaf, day in _cursor(lake).items() if f"/{region}/" in leaf)

    for attempt in (1, 2, 3, 4):  # minutes apart: never set aside
        result = pull(ingest, *args, expect=1)
        assert "InvalidObjectState" in result.output and "Not collected (1)" in result.output
        (refusal,) = (lake / "_state" / "cloudtrail" / "refusals").glob("*.json")
        record = json.loads(refusal.read_text())
        assert record["attempts"] == attempt and "InvalidObjectState" in record["error"]
        assert cursor() == "2025-12-31"  # pinned before the refused object's day
    record["first_at"] = (datetime.now(UTC) - timedelta(hours=25)).isoformat()  # a day ago
    refusal.write_text(json.dumps(record))

    result = pull(ingest, *args, expect=1)  # exit 1: a warning to read
    output = " ".join(result.output.split())
    assert "warning:" in output and "refused 5 times by S3" in output
    assert "collect it again with --from" in output
    assert cursor() == "2026-01-02"
    (reason,) = (lake / "_quarantine" / "cloudtrail").glob("*.reason.json")
    document = json.loads(reason.read_text())
    assert document["source_object"] == f"s3://trail-bucket/{archived}"
    assert "InvalidObjectState" in document["reason"]
    assert len(landed_ids(lake)) == 4  # every other object of the account

    aws.s3.put_object(Bucket="trail-bucket", Key=archived, Body=body)  # restored
    pull(ingest, *args)
    assert len(landed_ids(lake)) == 5
    assert not list((lake / "_state" / "cloudtrail" / "refusals").glob("*.json"))


def test_assumed_role_credentials_renew_themselves(aws) -> None:
    """A backfill outlives its role session: the session re-assumes the role before the
    credentials expire (here at once: 900 s is inside botocore's refresh window)."""
    from ingest import aws as aws_sessions

    session = aws_sessions.session(
        role_arn="arn:aws:iam::123456789012:role/TrailhouseReadOnly", duration_seconds=900
    )
    keys = [session.get_credentials().get_frozen_credentials().access_key for _ in range(2)]
    assert keys[0] != keys[1] and all(k.startswith("ASIA") for k in keys)
    assert FAKE_KEY_ID not in keys  # the role's, not the caller's
    aws.s3.create_bucket(Bucket="renewed")
    listed = session.client("s3", endpoint_url=aws.endpoint).list_buckets()["Buckets"]
    assert [b["Name"] for b in listed] == ["renewed"]
