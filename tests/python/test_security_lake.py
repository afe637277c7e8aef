"""OCSF Detection Findings in Amazon Security Lake (`ingest export security-lake`): the real CLI
over the demo lake's alerts and API activity, writing to a real S3 server (moto, loopback),
read back as Parquet; hostile regions and accounts in the lake; and the dotted-column nesting
(ingest.ocsf) the export and OCSF JSON share."""

from __future__ import annotations

import io
import os
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ingest
from ingest import security_lake
from ingest.ocsf import finding_dicts, nest_dict, nest_table
from ingest.query import register

from conftest import PROJECT_ROOT, LakeReader, Workspace, invoke

BUCKET = "aws-security-data-lake-us-east-1-trailhouse"
KEY = re.compile(
    r"ext/(?P<source>trailhouse|trailhouse-api)/region=[a-z]{2}(-[a-z]+)+-[0-9]/"
    r"accountId=[0-9]{12}/eventDay=(?P<day>[0-9]{8})/"
    r"(?P<view>ocsf_detection_finding|ocsf_api_activity)-(?P=day)-[0-9]{5}\.parquet"
)
DEFAULTS = ("--account-id", "999988887777", "--region", "eu-west-1")


# -- nesting ------------------------------------------------------------------------------


def test_dotted_columns_become_nested_structs() -> None:
    observable = pa.struct([("name", pa.string()), ("type_id", pa.int32())])
    flat = pa.table(
        {
            "class_uid": pa.array([2004, 2004], pa.int32()),
            "metadata.product.name": ["trailhouse", "trailhouse"],
            "metadata.version": ["1.1.0", "1.1.0"],
            "metadata.product.version": ["0.1.0", None],
            "observables": pa.array([[{"name": "ip", "type_id": 2}], []], pa.list_(observable)),
            "cloud.account.uid": ["111122223333", None],
        }
    )
    nested = nest_table(flat)
    assert nested.schema.names == ["class_uid", "metadata", "observables", "cloud"]
    metadata = nested.schema.field("metadata").type
    assert [f.name for f in metadata] == ["product", "version"]
    assert metadata.field("product").type == pa.struct(
        [("name", pa.string()), ("version", pa.string())]
    )
    assert nested.schema.field("observables").type == pa.list_(observable)
    assert nested.to_pylist()[1] == {
        "class_uid": 2004,
        "metadata": {"product": {"name": "trailhouse", "version": None}, "version": "1.1.0"},
        "observables": [],
        "cloud": {"account": {"uid": None}},
    }
    # an empty table keeps the nested schema (a day with no rows still has a shape)
    assert nest_table(flat.slice(0, 0)).schema == nested.schema


def test_nesting_refuses_ambiguous_paths() -> None:
    for names in (["a", "a.b"], ["a.b", "a"], ["a..b"], ["a.b", "a.b"], [".a"]):
        with pytest.raises(ValueError):
            nest_table(pa.table({f"c{i}": [1] for i in range(len(names))}).rename_columns(names))


def test_nested_dicts_leave_absent_attributes_out() -> None:
    row = {
        "class_uid": 2004,
        "finding_info.uid": "a-1",
        "finding_info.analytic.uid": "det",
        "finding_info.desc": None,
        "cloud.account.uid": None,
        "observables": [{"name": "ip", "value": "203.0.113.7", "type": None}],
    }
    assert nest_dict(row) == {
        "class_uid": 2004,
        "finding_info": {"uid": "a-1", "analytic": {"uid": "det"}},
        "observables": [{"name": "ip", "value": "203.0.113.7"}],
    }
    kept = nest_dict(row, drop_nulls=False)
    assert kept["cloud"] == {"account": {"uid": None}} and kept["finding_info"]["desc"] is None


def test_the_product_version_is_the_packages() -> None:
    macro = (PROJECT_ROOT / "macros/ocsf_findings.sql").read_text()
    version = re.search(r"macro trailhouse_version\(\) %}\s*{{ return\('([^']+)'\) }}", macro)
    assert version and version.group(1) == ingest.__version__


@pytest.mark.parametrize(
    ("region", "account", "day"),
    [
        ("../../../evil", "111122223333", date(2026, 1, 9)),
        ("us-east-1/../x", "111122223333", date(2026, 1, 9)),
        ("us-east-1\n", "111122223333", date(2026, 1, 9)),
        ("US-EAST-1", "111122223333", date(2026, 1, 9)),
        (None, "111122223333", date(2026, 1, 9)),
        ("us-east-1", "1111222233334", date(2026, 1, 9)),
        ("us-east-1", "11112222333a", date(2026, 1, 9)),
        ("us-east-1", "١١١١٢٢٢٢٣٣٣٣", date(2026, 1, 9)),  # Arabic-Indic digits
        ("us-east-1", "111122223333", None),
    ],
)
def test_hostile_partition_values_are_refused(region, account, day) -> None:
    assert security_lake.partition_problem(region, account, day) is not None
    with pytest.raises(ValueError):
        security_lake.partition_prefix("ext/trailhouse/", region, account, day)


def test_partition_prefix_layout() -> None:
    for region in ("us-east-1", "us-gov-west-1", "ap-southeast-2", "eu-central-2"):
        assert security_lake.partition_problem(region, "111122223333", date(2026, 1, 9)) is None
    assert (
        security_lake.partition_prefix("ext/th/", "us-east-1", "111122223333", date(2026, 1, 9))
        == "ext/th/region=us-east-1/accountId=111122223333/eventDay=20260109/"
    )


# -- the export, end to end -------------------------------------------------------------------


def _with_aws(ws: Workspace) -> Workspace:
    """The workspace's environment pointed at the loopback S3 server (the `aws` fixture set
    it in this process after the shared lake's environment was taken)."""
    env = {k: v for k, v in ws.env.items() if not k.startswith("AWS_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    return Workspace(ws.root, env, ws.project, ws.frozen)


def _objects(aws) -> dict[str, str]:
    """key -> ETag of every object in the bucket."""
    found = {}
    for page in aws.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["ETag"]
    return found


def _read(aws, key: str) -> pq.ParquetFile:
    body = aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pq.ParquetFile(io.BytesIO(body))


def _export(ws: Workspace, *args: str, expect: int = 0):
    return invoke(ws, "export", "security-lake", "--bucket", BUCKET, *args, expect=expect)


REQUIRED_FINDING_FIELDS = [
    ("class_uid",), ("category_uid",), ("activity_id",), ("type_uid",), ("time",),
    ("severity_id",), ("status_id",), ("metadata", "version"), ("metadata", "product", "name"),
    ("metadata", "product", "vendor_name"), ("metadata", "product", "version"),
    ("finding_info", "uid"), ("finding_info", "title"), ("finding_info", "analytic", "uid"),
    ("finding_info", "analytic", "type_id"), ("finding_info", "first_seen_time"),
    ("finding_info", "last_seen_time"),
]  # fmt: skip


def _field(table: pa.Table, path: tuple[str, ...]) -> pa.ChunkedArray:
    column = table.column(path[0])
    for name in path[1:]:
        column = pa.chunked_array(
            [chunk.field(name) for chunk in column.chunks], column.type.field(name).type
        )
    return column


def test_export_writes_the_security_lake_layout(demo_lake: Workspace, aws) -> None:
    ws = _with_aws(demo_lake)
    aws.s3.create_bucket(Bucket=BUCKET)
    lake = LakeReader(demo_lake.lake)
    alerts = lake.dicts("select * from alerts order by alert_id")
    without_account = [a for a in alerts if a["account_id"] is None or a["aws_region"] is None]
    assert without_account, "the demo's web alerts have no account or region"

    # web alerts have no account or region: reported, counted, exit 1, the rest written
    first = _export(ws, expect=1)
    assert f"not exported: {len(without_account)} ocsf_detection_finding row(s)" in first.output
    assert "--region / --account-id" in first.output
    assert _objects(aws) and all(KEY.fullmatch(k) for k in _objects(aws))

    result = _export(ws, *DEFAULTS)
    assert "not exported" not in result.output
    objects = _objects(aws)
    for key in objects:
        match = KEY.fullmatch(key)
        assert match, key
        # one OCSF class per source prefix
        expected_view = "ocsf_api_activity" if match["source"] == "trailhouse-api" else (
            "ocsf_detection_finding"
        )  # fmt: skip
        assert match["view"] == expected_view, key
    finding_keys = [k for k in objects if k.startswith("ext/trailhouse/")]
    api_keys = [k for k in objects if k.startswith("ext/trailhouse-api/")]
    assert finding_keys and api_keys

    findings = []
    for key in finding_keys:
        parquet = _read(aws, key)
        metadata = parquet.metadata
        for group in range(metadata.num_row_groups):
            for column in range(metadata.num_columns):
                assert metadata.row_group(group).column(column).compression == "ZSTD"
        table = parquet.read()
        # nested OCSF objects, not dotted column names
        assert not [name for name in table.schema.names if "." in name]
        assert table.schema.field("metadata").type.field("product").type.field("name").type == (
            pa.string()
        )
        assert pa.types.is_list(table.schema.field("observables").type)
        times = table.column("time").to_pylist()
        assert times == sorted(times)
        for path in REQUIRED_FINDING_FIELDS:
            assert _field(table, path).null_count == 0, (key, path)
        assert set(table.column("class_uid").to_pylist()) == {2004}
        assert set(table.column("type_uid").to_pylist()) == {200401}
        match = KEY.fullmatch(key)
        rows = table.to_pylist()
        for row in rows:
            assert f"{row['time'] // 86_400_000}" == str(
                (date(int(match["day"][:4]), int(match["day"][4:6]), int(match["day"][6:]))
                 - date(1970, 1, 1)).days
            )  # fmt: skip
            region = row["cloud"]["region"] or "eu-west-1"
            account = row["cloud"]["account"]["uid"] or "999988887777"
            assert f"region={region}/accountId={account}/" in key
        findings += rows
    assert sorted(f["finding_info"]["uid"] for f in findings) == [a["alert_id"] for a in alerts]

    # a known alert's finding
    alert = next(
        a for a in alerts if a["account_id"] and a["mitre_techniques"] and a["principal_arn"]
    )
    finding = next(f for f in findings if f["finding_info"]["uid"] == alert["alert_id"])
    assert finding["finding_info"]["analytic"] == {
        "uid": alert["detection_id"], "name": alert["title"], "type_id": 1, "type": "Rule"
    }  # fmt: skip
    assert finding["time"] == int(alert["first_seen_at"].timestamp() * 1000)
    assert finding["message"] == alert["summary"]
    assert finding["cloud"]["account"]["uid"] == alert["account_id"]
    assert finding["metadata"]["product"] == {
        "name": "trailhouse", "vendor_name": "trailhouse", "version": ingest.__version__
    }  # fmt: skip
    assert [a["technique"]["uid"] for a in finding["finding_info"]["attacks"]] == [
        t.split(".")[0] for t in alert["mitre_techniques"]
    ]
    assert [e["uid"] for e in finding["finding_info"]["related_events"]] == alert["event_ids"]
    assert finding["evidences"][0]["actor"]["user"]["uid"] == alert["principal_arn"]
    observed = {(o["type_id"], o["value"]) for o in finding["observables"]}
    assert (10, alert["principal_arn"]) in observed
    assert {(2, ip) for ip in alert["source_ips"] if ip[0].isdigit()} <= observed
    assert finding["status"] == ("Suppressed" if alert["suppressed"] else "New")

    # API activity: every call of the OCSF view, sorted, nested
    api_rows = 0
    for key in api_keys:
        table = _read(aws, key).read()
        assert set(table.column("class_uid").to_pylist()) == {6003}
        assert table.schema.field("api").type.field("operation").type == pa.string()
        times = table.column("time").to_pylist()
        assert times == sorted(times)
        api_rows += table.num_rows
    assert api_rows == demo_lake.catalog("select count(*) from ocsf_api_activity")[0][0]

    # a rerun replaces: the same objects under the same names, nothing added
    _export(ws, *DEFAULTS)
    assert _objects(aws) == objects


def test_hostile_regions_and_accounts_never_become_keys(
    demo_lake: Workspace, aws, tmp_path: Path
) -> None:
    ws = _with_aws(demo_lake.copy(tmp_path / "ws"))
    aws.s3.create_bucket(Bucket=BUCKET)
    # two AWS alerts of one day again, with a forged region and a forged account
    alerts = f"{ws.lake}/alerts/*/*.parquet"
    con = duckdb.connect()
    day = con.execute(
        "select min(alert_date) from read_parquet(?, hive_partitioning = true) "
        "where account_id is not null",
        [alerts],
    ).fetchone()[0]
    hostile = ws.lake / f"alerts/alert_date={day}/hostile.parquet"
    con.execute(
        "copy (select * exclude (alert_date, n) replace ('hostile-' || n as alert_id, "
        "case n when 1 then '../../../evil' else aws_region end as aws_region, "
        "case n when 2 then '1111/../../x' else account_id end as account_id) "
        "from (select *, row_number() over (order by alert_id) as n "
        "from read_parquet(?, hive_partitioning = true) "
        "where account_id is not null and alert_date = ?) where n <= 2) "
        f"to '{hostile}' (format parquet)",
        [alerts, day],
    )
    assert (
        LakeReader(ws.lake).scalar("select count(*) from alerts where alert_id like 'hostile-%'")
        == 2
    )
    # triage moves a finding's status: acknowledged → In Progress, closed → Resolved
    acked, closed = LakeReader(ws.lake).rows(
        "select alert_id from alerts where not suppressed and alert_id not like 'hostile-%' "
        "order by alert_id limit 2"
    )
    invoke(ws, "alerts", "ack", acked[0], "--note", "looking")
    invoke(ws, "alerts", "close", closed[0], "--note", "benign")
    result = _export(ws, *DEFAULTS, expect=1)
    assert "not exported: 1 ocsf_detection_finding row(s): region is not an AWS region" in (
        result.output
    )
    assert "not exported: 1 ocsf_detection_finding row(s): account is not a 12-digit" in (
        result.output
    )
    objects = _objects(aws)
    assert objects and all(KEY.fullmatch(k) for k in objects)
    assert not [k for k in objects if "evil" in k or ".." in k or "/x" in k]
    exported, statuses = set(), {}
    for key in objects:
        if key.startswith("ext/trailhouse/"):
            for finding in _read(aws, key).read().to_pylist():
                exported.add(finding["finding_info"]["uid"])
                statuses[finding["finding_info"]["uid"]] = (finding["status_id"], finding["status"])
    assert statuses[acked[0]] == (2, "In Progress")
    assert statuses[closed[0]] == (4, "Resolved")
    assert {s for a, s in statuses.items() if a not in (acked[0], closed[0])} <= {
        (1, "New"), (3, "Suppressed")
    }  # fmt: skip
    assert not {uid for uid in exported if uid.startswith("hostile-")}
    # the rest was written
    in_lake = LakeReader(ws.lake).scalar("select count(*) from alerts")
    assert len(exported) == in_lake - 2


def test_finding_dicts_for_ocsf_json(demo_lake: Workspace) -> None:
    from ingest.duck import connect
    from ingest.lake import Lake

    con = connect()
    register(con, Lake.at(str(demo_lake.lake)), demo_lake.db)
    alert_id = LakeReader(demo_lake.lake).scalar("select min(alert_id) from alerts")
    (finding,) = finding_dicts(con, [alert_id])
    assert finding["class_uid"] == 2004 and finding["finding_info"]["uid"] == alert_id
    assert "." not in "".join(finding) and None not in finding.values()
    assert list(finding_dicts(con, ["no-such-alert' or 1=1 --"])) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--source", "../evil"),
        ("--source", "trailhouse-is-too-long"),
        ("--source-version", "1.0/../../x"),
        ("--bucket", "Bad_Bucket"),
        ("--account-id", "12345"),
        ("--region", "us-east-1/../x"),
    ],
)
def test_bad_options_are_usage_errors(workspace: Workspace, option: str, value: str) -> None:
    args = {"--bucket": BUCKET, option: value}
    flat = [part for item in args.items() for part in item]
    result = invoke(workspace, "export", "security-lake", *flat, expect=2)
    assert f"{option} must be" in result.output


def test_part_of_a_day_is_refused(workspace: Workspace) -> None:
    """An export replaces a whole eventDay's objects: part of a day would drop the rest."""
    result = invoke(workspace, "export", "security-lake", "--bucket", BUCKET,
                    "--from", "2026-01-31T14:00:00Z", expect=2)  # fmt: skip
    assert "whole days" in result.output
