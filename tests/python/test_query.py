"""`ingest query`: the lake and the dbt views without dbt, every analysis in every output
format, time pruning that really skips partitions, and the interactive shell."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from ingest.query import list_analyses

from conftest import INGEST, PROJECT_ROOT, Workspace, invoke

pytestmark = pytest.mark.e2e

VARS = ["--var", "principal=alice", "--var", "ip=203.0.113.12"]


def query(ws: Workspace, *args: str) -> tuple[int, str]:
    result = invoke(ws, "query", *args, expect=None)
    return result.exit_code, result.output


def _count(output_format: str, text: str, path: Path | None) -> int:
    if output_format == "csv":
        return len(list(csv.reader(io.StringIO(text)))) - 1
    if output_format == "jsonl":
        return len([json.loads(line) for line in text.splitlines() if line])
    if output_format == "json":
        return len(json.loads(text))
    if output_format == "parquet":
        return (
            duckdb.connect().execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
        )
    return int(text.strip().splitlines()[-1].split()[0].replace(",", ""))


def test_every_analysis_runs_in_every_output_format(demo_lake: Workspace, tmp_path: Path) -> None:
    analyses = list_analyses(PROJECT_ROOT)
    assert len(analyses) >= 16
    nonempty = 0
    for name in analyses:
        counts = {}
        for output_format in ("table", "csv", "json", "jsonl", "parquet"):
            out = tmp_path / f"{name}.parquet" if output_format == "parquet" else None
            args = [name, "-o", output_format, *VARS, "--limit", "100000"]
            code, text = query(demo_lake, *args, *(["--out", str(out)] if out else []))
            assert code == 0, (name, output_format, text[-2000:])
            counts[output_format] = _count(output_format, text, out)
        assert len(set(counts.values())) == 1, (name, counts)
        nonempty += counts["csv"] > 0
    # on the demo most questions have answers (the rest are right to be empty)
    assert nonempty >= len(analyses) - 4


def test_analyses_answer_what_the_demo_injected(demo_lake: Workspace) -> None:
    code, text = query(demo_lake, "cloudtrail_tampering", "-o", "json")
    assert code == 0 and any(r["event_name"] == "StopLogging" for r in json.loads(text))
    code, text = query(demo_lake, "root_activity", "-o", "json")
    assert code == 0 and any(r["event_name"] == "ConsoleLogin" for r in json.loads(text))
    code, text = query(demo_lake, "principal_timeline", "--var", "principal=alice", "-o", "json")
    rows = json.loads(text)
    assert rows and [r["event_time"] for r in rows] == sorted(r["event_time"] for r in rows)


def test_dataset_and_view_counts_match_the_lake(demo_lake: Workspace) -> None:
    direct = demo_lake.read("select count(*) from cloudtrail_events")[0][0]
    _, text = query(demo_lake, "select count(*) as n from cloudtrail_events", "-o", "csv")
    assert text.splitlines()[1] == str(direct)
    _, text = query(
        demo_lake, "select source, count(*) as n from events group by 1 order by 1", "-o", "json"
    )
    assert {r["source"]: r["n"] for r in json.loads(text)} == {
        "cloudtrail": direct,
        "http_access_log": 2000,
    }


def test_from_to_prunes_partitions(demo_lake: Workspace, tmp_path: Path) -> None:
    """A partition outside --from/--to is never opened: corrupting it breaks only the
    unfiltered query."""
    lake = demo_lake.lake
    days = sorted(p.name.split("=")[1] for p in (lake / "cloudtrail_events").iterdir())
    first, last = days[0], days[-1]
    code, text = query(
        demo_lake, "select count(*) from cloudtrail_events", "--from", last, "-o", "csv"
    )
    partition = lake / "cloudtrail_events" / f"event_date={last}"
    con = duckdb.connect()
    expected = con.execute(
        f"select count(*) from read_parquet('{partition}/*.parquet')"
    ).fetchone()[0]
    assert code == 0 and text.splitlines()[1] == str(expected)

    ws = demo_lake.copy(tmp_path / "ws")
    victim = next((ws.lake / "cloudtrail_events" / f"event_date={first}").glob("*.parquet"))
    victim.write_bytes(b"not parquet")
    code, _ = query(ws, "select count(*) from cloudtrail_events", "--from", last, "-o", "csv")
    assert code == 0
    code, _ = query(ws, "select count(*) from cloudtrail_events", "-o", "csv")
    assert code == 1


def test_shell_reads_statements_and_commands(demo_lake: Workspace) -> None:
    script = (
        ".tables\n"
        "select count(*) as n\n  from http_access_log;\n"
        "select * from no_such_table;\n"
        ".run top_api_calls\n"
        ".quit\n"
    )
    result = subprocess.run(
        [INGEST, "query", "-o", "csv"],
        input=script, capture_output=True, text=True, env=demo_lake.env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "cloudtrail_events" in result.stdout and "events" in result.stdout
    assert "n\n2000\n" in result.stdout
    assert "no_such_table" in result.stderr  # reported; the shell went on
    assert "event_source,event_name,calls" in result.stdout


def test_errors(demo_lake: Workspace) -> None:
    code, text = query(demo_lake, "principal_timeline")
    assert code == 2 and "--var principal=" in text
    code, text = query(demo_lake, "select * from nowhere")
    assert code == 1
    code, text = query(demo_lake, "select 1", "-o", "parquet")
    assert code == 2 and "--out" in text
    code, text = query(demo_lake, "select 1", "-o", "xml")
    assert code == 2


def test_an_incident_hour_across_midnight(demo_lake: Workspace) -> None:
    """`--from`/`--to` take times too: exactly the rows of [from, to), across a partition
    boundary, with an offset; the views (`events`) see the same range."""
    days = sorted(p.name.split("=")[1] for p in (demo_lake.lake / "cloudtrail_events").iterdir())
    start, end = f"{days[1]}T23:30:00Z", f"{days[2]}T01:30:00+01:00"  # 23:30 → 00:30 UTC
    expected = demo_lake.read(
        "select count(*) from cloudtrail_events where event_time >= ?::timestamptz "
        "and event_time < ?::timestamptz",
        [start, f"{days[2]}T00:30:00Z"],
    )[0][0]
    code, text = query(
        demo_lake, "select count(*) from cloudtrail_events", "--from", start, "--to", end,
        "-o", "csv",
    )  # fmt: skip
    assert code == 0 and int(text.splitlines()[1]) == expected > 0
    code, text = query(
        demo_lake, "select min(event_time) >= ?::timestamptz from cloudtrail_events"
        .replace("?", f"'{start}'"), "--from", start, "--to", end, "-o", "csv",
    )  # fmt: skip
    assert code == 0 and text.splitlines()[1] == "True"
    code, text = query(demo_lake, "select 1", "--from", "yesterday")
    assert code == 2 and "--from takes a day (2026-01-31) or a time" in " ".join(text.split())
