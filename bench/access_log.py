"""Access logs against the best DuckDB can do, each step in its own process (peak RSS its own):

  access-log floor            one DuckDB statement: read the lines, extract the combined fields
                              with one regex, write event_date-partitioned Parquet
  trailhouse access-log load  `ingest load access-log` of the same file into a fresh lake

`run_steps` is called by bench/run.py; `python bench/access_log.py --lines N` runs it alone.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

# bench/run.py: the process runner (wall time, peak RSS), the output size, a lake's environment
from run import BIN, ROOT, lake_env, run, tree_size

DAYS = 7

# The floor's regex: the combined format as one would write it for RE2 by hand.
_QUOTED = r'((?:[^"\\]|\\.)*)'
COMBINED_RE2 = (
    rf'^(\S+) (\S+) (\S+) \[([^\]]+)\] "{_QUOTED}" (\d{{3}}) (\d+|-) "{_QUOTED}" "{_QUOTED}"$'
)
FLOOR_SQL = """
copy (
    with lines as (
        select line from read_csv({source}, columns = {{'line': 'VARCHAR'}}, delim = '\\x01',
            quote = '', escape = '', header = false, auto_detect = false,
            max_line_size = 1048576)
    ),
    parsed as (
        select line, regexp_extract(line, {pattern}, ['client_ip', 'ident', 'remote_user',
            'time', 'request', 'status', 'bytes_sent', 'referer', 'user_agent']) as f
        from lines
    )
    select
        strptime(f.time, '%d/%b/%Y:%H:%M:%S %z') as event_time,
        cast(strptime(f.time, '%d/%b/%Y:%H:%M:%S %z') as date) as event_date,
        f.client_ip, f.remote_user, f.request, split_part(f.request, ' ', 1) as http_method,
        split_part(f.request, ' ', 2) as path, f.status, f.bytes_sent, f.referer,
        f.user_agent, line as raw
    from parsed
    where f.time <> ''
) to {target} (format parquet, compression zstd, partition_by (event_date))
"""

_PATHS = ["/", "/index.html", "/login", "/api/v1/items", "/api/v1/orders", "/static/app.js",
          "/static/style.css", "/images/logo.png", "/search", "/cart", "/checkout",
          "/health"]  # fmt: skip
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
]
_STATUSES = [200] * 20 + [301, 302, 304, 400, 401, 403, 404, 404, 500, 503]


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """`lines` Apache combined lines over DAYS days, the same bytes for the same arguments
    (one seeded generator, times from a fixed end); written as it goes (flat memory)."""
    rng = random.Random(seed)
    end = datetime(2026, 1, 8, tzinfo=UTC)
    start = end - timedelta(days=DAYS)
    step = (end - start) / max(lines, 1)
    zone = timedelta(hours=2)  # the server's own offset, as in real logs
    with path.open("w", encoding="ascii", buffering=1 << 20) as out:
        for n in range(lines):
            when = (start + step * n + zone).strftime("%d/%b/%Y:%H:%M:%S +0200")
            octets = (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                      rng.randrange(1, 255))  # fmt: skip
            ip = ".".join(map(str, octets))
            user = "-" if rng.random() < 0.9 else f"user{rng.randrange(500)}"
            target = rng.choice(_PATHS)
            if rng.random() < 0.4:
                target += f"?id={rng.randrange(100_000)}&page={rng.randrange(20)}"
            method = "GET" if rng.random() < 0.85 else "POST"
            referer = "-" if rng.random() < 0.5 else f"https://example.com{rng.choice(_PATHS)}"
            out.write(
                f'{ip} - {user} [{when}] "{method} {target} HTTP/1.1" {rng.choice(_STATUSES)} '
                f'{rng.randrange(100, 50_000)} "{referer}" "{rng.choice(_AGENTS)}"\n'
            )


def floor(source: Path, target: Path) -> None:
    from ingest.duck import connect, sql_string

    con = connect()  # the session settings ingest uses (UTC, memory limit, threads)
    con.execute(
        FLOOR_SQL.format(
            source=sql_string(str(source)),
            pattern=sql_string(COMBINED_RE2),
            target=sql_string(str(target)),
        )
    )


def run_steps(work: Path, lines: int) -> dict:
    """Generate the log under `work`, then time the floor and `ingest load access-log` on it,
    each its own process; the two step dicts, with their lines, lines/s and ratio to the
    floor."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "access-log.log"
    source = work / "access.log"
    print(f"Generating {lines:,} access-log lines ...", flush=True)
    generate(source, lines)
    python = str(BIN / "python")
    steps: dict[str, dict] = {}

    print("access-log floor ...", flush=True)
    floor_out = work / "access-log-floor"
    shutil.rmtree(floor_out, ignore_errors=True)
    env = lake_env(work)
    steps["access-log floor"] = run([python, __file__, "_floor", str(source), str(floor_out)],
                                    env, log)  # fmt: skip
    steps["access-log floor"]["output"] = tree_size(floor_out)

    print("trailhouse access-log load ...", flush=True)
    lake = Path(env["TRAILHOUSE_LAKE"])
    shutil.rmtree(lake, ignore_errors=True)
    load = run([str(BIN / "ingest"), "load", "access-log", str(source)], env, log)
    steps["trailhouse access-log load"] = load
    load["output"] = tree_size(lake / "landing" / "http_access_log")

    floor_rate = lines / steps["access-log floor"]["seconds"]
    for step in steps.values():
        step["lines"] = lines
        step["lines_per_second"] = lines / step["seconds"]
        step["ratio_to_floor"] = step["lines_per_second"] / floor_rate
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench-access-log")
    args = parser.parse_args()
    steps = run_steps(args.workdir.resolve(), args.lines)
    for name, step in steps.items():
        print(f"{name}: {step['seconds']:.2f}s, {step['lines_per_second']:,.0f} lines/s "
              f"({step['ratio_to_floor']:.2f}x the floor), "
              f"peak RSS {step['peak_rss_bytes'] / 2**20:,.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_floor":
        floor(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
