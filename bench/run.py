"""`make bench`: trailhouse's throughput against the best DuckDB can do, measured in one run.

Steps, each a separate process so its peak RSS is its own:
  floor        one DuckDB statement: the raw .json.gz files -> event_date-partitioned Parquet
               with the columns of cloudtrail_events (bench/floor.sql)
  naive        a hand-written collector: Python json + pyarrow, one file at a time
  trailhouse full         `ingest load` + `dbt build` on a fresh lake
  spark full   the same landing zone built by `dbt build --target spark` (local PySpark on
               this machine's cores; skipped without Java)
  trailhouse incremental  +1% new events (half for an old day): `ingest load` + `dbt build`
  replay --speed 0        the whole lake streamed in event-time order to a file

Prints a markdown table and writes it, with the raw numbers as JSON, to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*.parquet") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def run(cmd: list[str], env: dict, log: Path) -> dict:
    """Run one process; return its wall time and peak RSS (its own, via wait4)."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}")
    return {"seconds": seconds, "peak_rss_bytes": usage.ru_maxrss * 1024}


def combine(*steps: dict) -> dict:
    return {
        "seconds": sum(s["seconds"] for s in steps),
        "peak_rss_bytes": max(s["peak_rss_bytes"] for s in steps),
        "parts": [round(s["seconds"], 2) for s in steps],
    }


def generate(directory: Path, events: int, days: int, end: str, seed: int) -> None:
    from ingest.sources.demo import DemoSpec
    from ingest.sources.demo import generate as write

    write(DemoSpec(events=events, days=days, accounts=3, seed=seed, end=end), directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument(
        "--spark", action=argparse.BooleanOptionalAction, default=shutil.which("java") is not None
    )
    args = parser.parse_args()

    work = args.workdir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = work / "bench.log"
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end_iso = end.strftime("%Y-%m-%dT%H:00:00Z")
    print(f"Generating {args.events:,} events with the ingest demo generator ...", flush=True)
    source = work / "source"
    generate(source, args.events, 7, end_iso, seed=7)
    extra = work / "extra"
    # +1%: half on the last day, half late-arriving for a day five days back.
    generate(extra / "new", args.events // 200, 1, end_iso, seed=8)
    old_end = (end - timedelta(days=5)).strftime("%Y-%m-%dT%H:00:00Z")
    generate(extra / "old", args.events // 200, 1, old_end, seed=9)
    extra_events = 2 * (args.events // 200)

    lake = work / "lake"
    env = {
        **os.environ,
        "TRAILHOUSE_LAKE": str(lake),
        "TRAILHOUSE_DB": str(work / "trailhouse.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DO_NOT_TRACK": "1",
    }
    python = str(BIN / "python")
    steps: dict[str, dict] = {}

    print("floor ...", flush=True)
    steps["floor"] = run([python, __file__, "_floor", str(source), str(work / "floor")], env, log)
    steps["floor"]["output"] = tree_size(work / "floor")

    print("naive ...", flush=True)
    steps["naive"] = run([python, __file__, "_naive", str(source), str(work / "naive")], env, log)
    steps["naive"]["output"] = tree_size(work / "naive")

    print("trailhouse full ...", flush=True)
    load = run([str(BIN / "ingest"), "load", "cloudtrail", str(source / "AWSLogs")], env, log)
    build = run([str(BIN / "dbt"), "build", "--exclude", "resource_type:unit_test"], env, log)
    steps["trailhouse full"] = combine(load, build)
    steps["trailhouse full"]["output"] = tree_size(lake / "cloudtrail_events")

    if args.spark:
        # The same landing zone, built by Spark into a lake of its own.
        print("spark full ...", flush=True)
        spark_lake = work / "spark-lake"
        shutil.copytree(lake / "landing", spark_lake / "landing")
        spark_env = {**env, "TRAILHOUSE_LAKE": str(spark_lake)}
        steps["spark full"] = run(
            [
                str(BIN / "dbt"),
                "build",
                "--target",
                "spark",
                "--exclude",
                "resource_type:unit_test",
            ],
            spark_env,
            log,
        )
        steps["spark full"]["output"] = tree_size(spark_lake / "cloudtrail_events")

    print("trailhouse incremental ...", flush=True)
    new_objects = [str(extra / part / "AWSLogs") for part in ("new", "old")]
    load = run([str(BIN / "ingest"), "load", "cloudtrail", *new_objects], env, log)
    build = run([str(BIN / "dbt"), "build", "--exclude", "resource_type:unit_test"], env, log)
    steps["trailhouse incremental"] = combine(load, build)
    steps["trailhouse incremental"]["output"] = tree_size(lake / "cloudtrail_events")

    print("replay ...", flush=True)
    replayed = work / "replay.jsonl"
    steps["replay --speed 0"] = run(
        [str(BIN / "ingest"), "replay", "--speed", "0", "--out", str(replayed)], env, log
    )
    steps["replay --speed 0"]["output"] = (1, replayed.stat().st_size)

    for name, step in steps.items():
        step["events"] = {
            "trailhouse incremental": extra_events,
            "replay --speed 0": args.events + extra_events,
        }.get(name, args.events)
        step["events_per_second"] = step["events"] / step["seconds"]
    floor_rate = steps["floor"]["events_per_second"]
    for step in steps.values():
        step["ratio_to_floor"] = step["events_per_second"] / floor_rate

    full, incremental = steps["trailhouse full"], steps["trailhouse incremental"]
    targets = {
        "full >= 0.5x floor": full["ratio_to_floor"] >= 0.5,
        "incremental <= 10% of full time": incremental["seconds"] <= 0.10 * full["seconds"],
        "peak RSS <= 2 GiB": all(s["peak_rss_bytes"] <= 2 << 30 for s in steps.values()),
        "replay peak RSS < 500 MB": steps["replay --speed 0"]["peak_rss_bytes"] < 500 * 10**6,
        ">= 10x naive": full["events_per_second"] >= 10 * steps["naive"]["events_per_second"],
    }
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    report = render(args.events, steps, targets, machine)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {"events": args.events, "machine": machine, "steps": steps, "targets": targets}
    (RESULTS / f"{stamp}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(report + "\n")


def render(events: int, steps: dict, targets: dict, machine: dict) -> str:
    lines = [
        f"{events:,} events · {machine['cpus']} CPUs · {machine['memory_gib']} GiB · "
        f"{machine['platform']} · Python {machine['python']}",
        "",
        "| step | events | events/s | x floor | seconds | peak RSS | files | Parquet bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in steps.items():
        files, size = s["output"]
        parts = " (" + " + ".join(f"{p:g}" for p in s["parts"]) + ")" if "parts" in s else ""
        lines.append(
            f"| {name} | {s['events']:,} | {s['events_per_second']:,.0f} | "
            f"{s['ratio_to_floor']:.2f} | {s['seconds']:.1f}{parts} | "
            f"{s['peak_rss_bytes'] / 2**20:,.0f} MiB | {files:,} | {size / 2**20:,.1f} MiB |"
        )
    full, incremental = steps["trailhouse full"], steps["trailhouse incremental"]
    lines += [
        "",
        f"Incremental (+{incremental['events']:,} events) took "
        f"{incremental['seconds'] / full['seconds']:.0%} of the full build's time; "
        f"full is {full['events_per_second'] / steps['naive']['events_per_second']:.1f}x naive.",
        "",
    ]
    lines += [f"- {'✅' if ok else '❌'} {name}" for name, ok in targets.items()]
    return "\n".join(lines)


# -- the two baselines, run in their own processes ------------------------------------------


def floor(source: Path, target: Path) -> None:
    from ingest.duck import connect, sql_string

    con = connect()  # the session settings ingest uses (UTC, memory limit, threads)
    files = sql_string(f"{source}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")
    template = (ROOT / "bench" / "floor.sql").read_text()
    con.execute(template.format(files=files, target=sql_string(str(target))))


def naive(source: Path, target: Path) -> None:
    """What a hand-written collector does: parse each file in Python, write with pyarrow."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    writers: dict[str, pq.ParquetWriter] = {}
    fields = [
        ("event_id", "eventID"),
        ("event_version", "eventVersion"),
        ("event_source", "eventSource"),
        ("event_name", "eventName"),
        ("event_type", "eventType"),
        ("aws_region", "awsRegion"),
        ("source_ip_address", "sourceIPAddress"),
        ("user_agent", "userAgent"),
        ("error_code", "errorCode"),
        ("error_message", "errorMessage"),
        ("recipient_account_id", "recipientAccountId"),
        ("request_id", "requestID"),
    ]
    strings = [name for name, _ in fields] + [
        "principal_type",
        "principal_arn",
        "principal_name",
        "account_id",
        "user_identity",
        "request_parameters",
        "response_elements",
        "raw",
    ]
    schema = pa.schema(
        [(name, pa.string()) for name in strings]
        + [("event_time", pa.timestamp("us", tz="UTC")), ("read_only", pa.bool_())]
    )
    for path in sorted(source.rglob("*_CloudTrail_*.json.gz")):
        with gzip.open(path) as handle:
            records = json.load(handle)["Records"]
        by_day: dict[str, list[dict]] = {}
        for record in records:
            identity = record.get("userIdentity") or {}
            row = {name: record.get(key) for name, key in fields}
            row.update(
                event_time=datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
                read_only=record.get("readOnly"),
                principal_type=identity.get("type"),
                principal_arn=identity.get("arn"),
                principal_name=identity.get("userName"),
                account_id=identity.get("accountId"),
                user_identity=json.dumps(identity),
                request_parameters=json.dumps(record.get("requestParameters")),
                response_elements=json.dumps(record.get("responseElements")),
                raw=json.dumps(record),
            )
            by_day.setdefault(record["eventTime"][:10], []).append(row)
        for day, rows in by_day.items():
            table = pa.Table.from_pylist(rows, schema=schema)
            if day not in writers:
                directory = target / f"event_date={day}"
                directory.mkdir(parents=True, exist_ok=True)
                writers[day] = pq.ParquetWriter(
                    directory / "data_0.parquet", schema, compression="zstd"
                )
            writers[day].write_table(table)
    for writer in writers.values():
        writer.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in {"_floor", "_naive"}:
        {"_floor": floor, "_naive": naive}[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
