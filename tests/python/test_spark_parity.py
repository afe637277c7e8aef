"""The same dbt project on Spark (dbt-spark, local PySpark) writes the same lake as on DuckDB.

The shared Stratus lake (the Stratus Red Team detonations, a small demo and the public Apache
sample), built with the DuckDB target, and a lake built from a copy of its landing zone with
`dbt build --target spark`. Both lakes are then read with DuckDB and compared row by row on
every column, and per partition. Spark needs Java: without it the test is skipped.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import (
    BUILD,
    SHARED_FIXTURES,
    STRATUS_DEMO,
    LakeReader,
    Workspace,
    run_dbt,
    run_ingest,
)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="Spark needs a Java runtime (java is not on PATH)"
    ),
]

# Addresses that exercise every branch of normalize_ip; each engine must print them alike.
ADDRESSES = [
    "1.2.3.4",
    "01.2.3.4",
    "256.1.1.1",
    "10.0.0.1",
    "2001:DB8:0:0:1:0:0:1",
    "2001:db8::0:1",
    "::ffff:1.2.3.4",
    "::ffff:0102:0304",
    "fe80::1:2.3.4.5",
    "::1.2.3.4",
    "1::",
    "::",
    "::1",
    "0:0:0:0:0:0:0:0",
    "1:0:0:2:0:0:0:3",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    ":1::2",
    "a::b::c",
    "1:::2",
    "12:34:56",
    "arn:aws:iam::aws:policy/x",
    "AWS Internal",
    "x",
    "",
]
NETWORKS = ["10.0.0.0/8", "2001:db8::/32", "fe80::/10", "1.2.3.4/32", "::/0", "0.0.0.0/0"]


def spark_dbt(ws: Workspace, *args: str) -> str:
    """dbt on Spark: a subprocess, so the JVM lives and dies with it."""
    return run_dbt(ws, *args, "--target", "spark", isolated=True)


@pytest.fixture(scope="module")
def lakes(
    stratus_lake: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Workspace, Workspace]:
    spark = Workspace.create(tmp_path_factory.mktemp("parity-spark"))
    shutil.copytree(stratus_lake.lake / "landing", spark.lake / "landing")
    spark_dbt(spark, "build")  # unit tests included: the acceptance build
    return stratus_lake, spark


def dataset(ws: Workspace, name: str) -> str:
    return f"read_parquet('{ws.lake}/{name}/*/*.parquet', hive_partitioning = true)"


def differences(duck: Workspace, spark: Workspace, name: str, key: str) -> dict[str, int]:
    """Per column, how many rows (matched on `key`) differ in their text; rows found in only
    one lake count under `key`."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    a, b = dataset(duck, name), dataset(spark, name)
    columns = [row[0] for row in con.execute(f"describe select * from {a}").fetchall()]
    assert columns == [row[0] for row in con.execute(f"describe select * from {b}").fetchall()]
    counts = con.execute(
        "select "
        + ", ".join(
            f"count(*) filter (where cast(d.{c} as varchar) is distinct from "
            f"cast(s.{c} as varchar))"
            for c in columns
        )
        + f" from {a} as d full join {b} as s on d.{key} = s.{key}"
    ).fetchone()
    return {column: n for column, n in zip(columns, counts, strict=True) if n}


def partition_counts(ws: Workspace, name: str, partition: str) -> list[tuple]:
    return ws.read(f"select {partition}, count(*) from {name} group by 1 order by 1")


def test_cloudtrail_events_are_the_same_rows_on_both_engines(
    lakes: tuple[Workspace, Workspace],
) -> None:
    duck, spark = lakes
    counts = partition_counts(duck, "cloudtrail_events", "event_date")
    assert sum(n for _, n in counts) > STRATUS_DEMO["events"] + 200  # the demo and detonations
    assert partition_counts(spark, "cloudtrail_events", "event_date") == counts
    assert differences(duck, spark, "cloudtrail_events", "event_id") == {}


def test_alerts_are_the_same_rows_on_both_engines(lakes: tuple[Workspace, Workspace]) -> None:
    duck, spark = lakes
    counts = partition_counts(duck, "alerts", "alert_date")
    detections = LakeReader(duck.lake).scalar("select count(distinct detection_id) from alerts")
    assert detections >= 20, "too few detections fired to compare the engines"
    assert partition_counts(spark, "alerts", "alert_date") == counts
    assert differences(duck, spark, "alerts", "alert_id") == {}


def test_web_requests_are_the_same_rows_on_both_engines(lakes: tuple[Workspace, Workspace]) -> None:
    duck, spark = lakes
    assert partition_counts(spark, "http_access_log", "event_date") == partition_counts(
        duck, "http_access_log", "event_date"
    )
    assert differences(duck, spark, "http_access_log", "event_id") == {}


def test_address_functions_agree_on_both_engines(
    lakes: tuple[Workspace, Workspace], tmp_path: Path
) -> None:
    """normalize_ip and ip_in_cidr on edge cases the demo may not hold."""
    _, spark = lakes
    values = ", ".join(f"('{a}', '{n}')" for a in ADDRESSES for n in NETWORKS)
    query = (
        "select address, network, {{ normalize_ip('address') }} as normalized, "
        "{{ ip_in_cidr(normalize_ip('address'), 'network') }} as inside "
        f"from (values {values}) as t(address, network) order by address, network"
    )

    def rows(output: str) -> list[dict]:
        # the JSON document dbt prints, among its log lines
        start = re.search(r'\{\s*"show"', output)
        assert start, output[-3000:]
        document, _ = json.JSONDecoder().raw_decode(output[start.start() :])
        return document["show"]

    show = ("show", "--inline", query, "--limit", "-1", "--output", "json", "--quiet")
    on_duckdb = rows(run_dbt(Workspace.create(tmp_path), *show))
    on_spark = rows(spark_dbt(spark, *show))
    assert len(on_duckdb) == len(ADDRESSES) * len(NETWORKS)
    assert on_spark == on_duckdb
    by_address = {row["address"]: row["normalized"] for row in on_duckdb}
    assert by_address["2001:DB8:0:0:1:0:0:1"] == "2001:db8::1:0:0:1"
    assert by_address["::ffff:0102:0304"] == "1.2.3.4"
    assert by_address["12:34:56"] is None


def test_imported_sigma_rules_run_on_spark(lakes: tuple[Workspace, Workspace]) -> None:
    """Every imported rule's model and both generated unit tests pass on Spark too."""
    _, spark = lakes
    imported = spark.with_env()  # the same lake, its own project copy
    project = imported.project_copy()
    run_ingest(
        imported, "sigma", "import", SHARED_FIXTURES / "sigma_cloudtrail", "--project", project
    )
    output = spark_dbt(imported, "build", "--select", "path:models/detections/sigma")
    assert "PASS=" in output and "ERROR=0" in output


def test_duckdb_builds_over_a_lake_spark_wrote(lakes: tuple[Workspace, Workspace]) -> None:
    """Switching engines on one lake: DuckDB replaces Spark's files instead of adding to them."""
    duck, spark = lakes
    output = run_dbt(spark, *BUILD)
    assert "cloudtrail_events: rebuilt" in output
    files = list((spark.lake / "cloudtrail_events").glob("*/*.parquet"))
    assert files and all(f.name == "data_0.parquet" for f in files)
    assert differences(duck, spark, "cloudtrail_events", "event_id") == {}
    assert differences(duck, spark, "alerts", "alert_id") == {}
