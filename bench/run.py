"""`make bench`: trailhouse's throughput against the best DuckDB can do, measured in one run.

Steps, each a separate process so its peak RSS is its own:
  floor        one DuckDB statement: the raw .json.gz files -> event_date-partitioned Parquet
               with the columns of cloudtrail_events (bench/floor.sql)
  naive        a hand-written collector: Python json + pyarrow, one file at a time
  trailhouse full         `ingest load` + `dbt build` on a fresh lake
  spark full   the same landing zone built by `dbt build --target spark` (local PySpark on
               this machine's cores; skipped without Java)
  trailhouse incremental  +1% new events (half for an old day): `ingest load` + `dbt build`
  history scaling         lakes of 7 days (--scale-events), 28 days and 7 days at 4x the daily
                          volume: each one's full build, then 5,000 new events for its last day
  access logs             bench/access_log.py: 1M Apache lines, a one-statement DuckDB floor
                          against `ingest load access-log`
  replay --speed 0        the whole lake streamed in event-time order to a file

The time `dbt build` spent in cloudtrail_events and in alerts (every detection) is reported
from dbt's run_results.json.

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
# Models whose own time is reported (the alerts step is every detection's evaluation).
MEASURED_MODELS = ("cloudtrail_events", "alerts")


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


def dbt_nodes(target: Path, *names: str) -> dict[str, float]:
    """Seconds each named model took in the last dbt command (its run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].rsplit(".", 1)[-1]: round(r["execution_time"], 2)
        for r in results
        if r["unique_id"].rsplit(".", 1)[-1] in names
    }


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


def lake_env(root: Path) -> dict:
    """The environment of a lake of its own under `root` (its DuckDB file and dbt target)."""
    return {
        **os.environ,
        "TRAILHOUSE_LAKE": str(root / "lake"),
        "TRAILHOUSE_DB": str(root / "trailhouse.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DO_NOT_TRACK": "1",
    }


def load_and_build(sources: list[Path], env: dict, log: Path) -> dict:
    """`ingest load` of generated CloudTrail, then `dbt build`: one trailhouse step."""
    objects = [str(source / "AWSLogs") for source in sources]
    load = run([str(BIN / "ingest"), "load", "cloudtrail", *objects], env, log)
    build = run([str(BIN / "dbt"), "build", "--exclude", "resource_type:unit_test"], env, log)
    step = combine(load, build)
    step["models"] = dbt_nodes(Path(env["DBT_TARGET_PATH"]), *MEASURED_MODELS)
    return step


# The history-scaling lakes: (days, daily volume relative to the first).
SCALES = {"7 days": (7, 1), "28 days (4x history)": (28, 1), "7 days at 4x volume": (7, 4)}
SLICE_EVENTS = 5_000


def history_scaling(work: Path, per_week: int, log: Path) -> dict[str, dict]:
    """Each lake's full build, then a slice of SLICE_EVENTS new events for its last day."""
    # The lakes end at the next midnight, so the slice (the last 24 h) is all "today".
    end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    today = work / "scale-slice"
    generate(today, SLICE_EVENTS, 1, end, seed=21)
    results = {}
    for name, (days, volume) in SCALES.items():
        events = per_week * days * volume // 7
        root = work / f"scale-{days}d-x{volume}"
        print(f"  {name}: {events:,} events ...", flush=True)
        generate(root / "source", events, days, end, seed=22)
        env = lake_env(root)
        full = load_and_build([root / "source"], env, log)
        incremental = load_and_build([today], env, log)
        results[name] = {"events": events, "full": full, "incremental": incremental}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument(
        "--spark", action=argparse.BooleanOptionalAction, default=shutil.which("java") is not None
    )
    parser.add_argument(
        "--scale-events",
        type=int,
        default=350_000,
        help="events in the 7-day lake of the history-scaling step (0: skip the step)",
    )
    parser.add_argument(
        "--access-log-lines",
        type=int,
        default=1_000_000,
        help="lines of the access-log steps (bench/access_log.py; 0: skip them)",
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
    env = lake_env(work)
    python = str(BIN / "python")
    steps: dict[str, dict] = {}

    print("floor ...", flush=True)
    steps["floor"] = run([python, __file__, "_floor", str(source), str(work / "floor")], env, log)
    steps["floor"]["output"] = tree_size(work / "floor")

    print("naive ...", flush=True)
    steps["naive"] = run([python, __file__, "_naive", str(source), str(work / "naive")], env, log)
    steps["naive"]["output"] = tree_size(work / "naive")

    print("trailhouse full ...", flush=True)
    steps["trailhouse full"] = load_and_build([source], env, log)
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
    steps["trailhouse incremental"] = load_and_build([extra / "new", extra / "old"], env, log)
    steps["trailhouse incremental"]["output"] = tree_size(lake / "cloudtrail_events")

    scaling = {}
    if args.scale_events:
        print("history scaling ...", flush=True)
        scaling = history_scaling(work, args.scale_events, log)

    access_log = {}
    if args.access_log_lines:
        from access_log import run_steps

        access_log = run_steps(work / "access-log", args.access_log_lines)

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
    if access_log:
        targets["access logs >= 0.5x floor lines/s"] = (
            access_log["trailhouse access-log load"]["ratio_to_floor"] >= 0.5
        )
    if scaling:
        first, *larger = scaling.values()
        targets.update(
            {
                "larger lakes' full builds <= 4.4x the 7-day one": all(
                    lake["full"]["seconds"] <= 4.4 * first["full"]["seconds"] for lake in larger
                ),
                f"{SLICE_EVENTS:,}-event slice <= 15% of the 7-day full build": (
                    first["incremental"]["seconds"] <= 0.15 * first["full"]["seconds"]
                ),
                "slice on larger lakes <= 1.3x its cost on the 7-day one": all(
                    lake["incremental"]["seconds"] <= 1.3 * first["incremental"]["seconds"]
                    for lake in larger
                ),
            }
        )
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    report = render(args.events, steps, targets, machine, scaling, access_log)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "events": args.events,
        "machine": machine,
        "steps": steps,
        "history_scaling": scaling,
        "access_log": access_log,
        "targets": targets,
    }
    (RESULTS / f"{stamp}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(report + "\n")


def render(
    events: int, steps: dict, targets: dict, machine: dict, scaling: dict, access_log: dict
) -> str:
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
        "Inside `dbt build` (model seconds): "
        + "; ".join(
            f"{name}: " + ", ".join(f"{model} {t:g}" for model, t in steps[name]["models"].items())
            for name in ("trailhouse full", "trailhouse incremental")
        )
        + ".",
        "",
    ]
    if scaling:
        base = next(iter(scaling.values()))
        lines += [
            f"History scaling (a slice of {SLICE_EVENTS:,} new events for the last day):",
            "",
            "| lake | events | full s | x 7-day full | slice s | x 7-day slice | slice / full |"
            " peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, lake in scaling.items():
            full, piece = lake["full"], lake["incremental"]
            peak = max(full["peak_rss_bytes"], piece["peak_rss_bytes"])
            lines.append(
                f"| {name} | {lake['events']:,} | {full['seconds']:.1f} | "
                f"{full['seconds'] / base['full']['seconds']:.2f} | {piece['seconds']:.1f} | "
                f"{piece['seconds'] / base['incremental']['seconds']:.2f} | "
                f"{piece['seconds'] / full['seconds']:.0%} | {peak / 2**20:,.0f} MiB |"
            )
        lines.append("")
    if access_log:
        lines += [
            "| access-log step | lines | lines/s | x floor | seconds | peak RSS | files |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, step in access_log.items():
            lines.append(
                f"| {name} | {step['lines']:,} | {step['lines_per_second']:,.0f} | "
                f"{step['ratio_to_floor']:.2f} | {step['seconds']:.1f} | "
                f"{step['peak_rss_bytes'] / 2**20:,.0f} MiB | {step['output'][0]:,} |"
            )
        lines.append("")
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
