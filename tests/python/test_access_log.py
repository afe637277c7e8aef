"""Web access logs and custom formats: `ingest load access-log`, `ingest load custom`, the
`http_access_log` / `custom_logs` datasets, and the web detections on real lines."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ingest.sources.access_log import access_log_format, from_log_format

from conftest import (
    BUILD,
    PROJECT_ROOT,
    SHARED_FIXTURES,
    LakeReader,
    Workspace,
    invoke,
    run_dbt,
    run_ingest,
)

SAMPLE = SHARED_FIXTURES / "web" / "apache_combined_sample.log"


def _expected_utc(line: str) -> datetime:
    """An independent reading of the line's time: strptime with its own offset."""
    stamp = re.search(r"\[([^\]]+)\]", line).group(1)
    return datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)


def _rows(lake: Path, dataset: str, columns: str = "*") -> list[tuple]:
    return LakeReader(lake).rows(f"select {columns} from {dataset}")


def _quarantined_lines(lake: Path, dataset: str, file_name: str) -> list[dict]:
    """The rejected lines of one input file (quarantine files are named after it)."""
    return [
        json.loads(line)
        for path in sorted((lake / "_quarantine" / dataset).glob(f"*__{file_name}.rejected.jsonl"))
        for line in path.read_text().splitlines()
    ]


# -- the public sample: every line accounted for, times converted -----------------------------


@pytest.fixture(scope="module")
def web_lake(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The Apache sample, plus a copy with other offsets, broken lines and attack traffic,
    rotated and gzipped; built by dbt up to the alerts."""
    ws = Workspace.create(tmp_path_factory.mktemp("web"))
    logs = ws.root / "logs"
    logs.mkdir()
    shifted = [
        '192.0.2.10 - - [31/Dec/2025:23:30:00 -0700] "GET /shop HTTP/1.1" 200 512 "-" "curl/8"',
        '192.0.2.11 - bob [01/Jan/2026:05:45:00 +0545] "POST /login HTTP/1.1" 302 0 "-" '
        '"Mozilla/5.0"',
        "this is not an access log line",
        "192.0.2.12 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200",
        "198.51.100.66 - - [01/Jan/2026:10:00:01 +0000] \"GET /item.php?id=1%27%20UNION%20SELECT%20"
        "password%20FROM%20users-- HTTP/1.1\" 200 10 \"-\" \"sqlmap/1.7.2#stable (https://sqlmap.org)\"",
        '198.51.100.66 - - [01/Jan/2026:10:00:02 +0000] "GET /download?file=..%2f..%2fetc%2f'
        'passwd HTTP/1.1" 400 10 "-" "Mozilla/5.0"',
    ] + [
        f"198.51.100.77 - - [01/Jan/2026:10:01:0{i} +0000] \"GET {p} HTTP/1.1\" 404 10 \"-\" \"x\""
        for i, p in enumerate(["/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config"])
    ]  # fmt: skip
    (logs / "access.log").write_text("\n".join(shifted) + "\n")
    # the same stream rotated: yesterday's file gzipped as access.log.1.gz holds the first
    # half of today's lines too (re-read after rotation must not double them)
    with gzip.open(logs / "access.log.1.gz", "wt") as handle:
        handle.write("\n".join(shifted[:2]) + "\n")
    run_ingest(ws, "load", "access-log", str(SAMPLE))
    output = run_ingest(ws, "load", "access-log", str(logs))
    run_dbt(ws, *BUILD)
    return {"ws": ws, "lake": ws.lake, "shifted": shifted, "output": output}


@pytest.mark.e2e
def test_every_line_of_the_sample_is_a_row_or_quarantined(web_lake: dict) -> None:
    lake = web_lake["lake"]
    sample_lines = SAMPLE.read_text().splitlines()
    rows = [r for r in _rows(lake, "http_access_log", "source_object, line_number, event_time")
            if r[0] == str(SAMPLE.resolve())]  # fmt: skip
    rejected = _quarantined_lines(lake, "http_access_log", SAMPLE.name)
    assert len(rows) + len(rejected) == len(sample_lines) == 2000
    by_line = {number: when for _, number, when in rows}
    for number, line in enumerate(sample_lines, 1):
        assert by_line[number] == _expected_utc(line), number


@pytest.mark.e2e
def test_times_keep_their_offset_and_broken_lines_are_quarantined_with_numbers(
    web_lake: dict,
) -> None:
    lake = web_lake["lake"]
    rows = dict(_rows(lake, "http_access_log", "raw, event_time"))
    assert rows[web_lake["shifted"][0]] == datetime(2026, 1, 1, 6, 30, tzinfo=UTC)
    assert rows[web_lake["shifted"][1]] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    rejected = {
        q["line_number"]: q for q in _quarantined_lines(lake, "http_access_log", "access.log")
    }
    assert set(rejected) == {3, 4}
    assert rejected[3]["line"] == "this is not an access log line"
    assert "combined format" in rejected[3]["reason"]
    output = " ".join(web_lake["output"].split())
    assert "2 invalid record(s) or line(s) of landed files were quarantined" in output


@pytest.mark.e2e
def test_rotated_and_rerun_logs_are_not_doubled(web_lake: dict) -> None:
    lake = web_lake["lake"]
    raws = [r[0] for r in _rows(lake, "http_access_log", "raw")]
    assert raws.count(web_lake["shifted"][0]) == 1  # in access.log and access.log.1.gz
    again = run_ingest(web_lake["ws"], "load", "access-log", str(SAMPLE))
    assert "Nothing new to land" in again


@pytest.mark.e2e
def test_parsed_columns(web_lake: dict) -> None:
    (row,) = _rows(
        web_lake["lake"],
        "http_access_log where raw like '192.0.2.11 %'",
        "client_ip, remote_user, http_method, path, query_string, http_version, status, "
        "bytes_sent, referer, user_agent",
    )
    assert row == ("192.0.2.11", "bob", "POST", "/login", None, "HTTP/1.1", 302, 0, None,
                   "Mozilla/5.0")  # fmt: skip


@pytest.mark.e2e
def test_web_detections_alert_on_attack_lines(web_lake: dict) -> None:
    alerts = _rows(web_lake["lake"], "alerts", "detection_id, source_ip_address")
    found = {(d, ip) for d, ip in alerts if d.startswith("web-")}
    assert ("web-scanner-user-agent", "198.51.100.66") in found
    assert ("web-sql-injection", "198.51.100.66") in found
    assert ("web-path-traversal", "198.51.100.66") in found
    assert ("web-admin-path-probe", "198.51.100.77") in found


# -- formats ----------------------------------------------------------------------------------


def test_custom_apache_log_format() -> None:
    line_format = access_log_format("custom", '%v %h %l %u %t "%r" %>s %b %D "%{User-Agent}i"')
    when, fields = line_format.parse(
        'shop.example.com 203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.0" '
        '200 2326 1234 "Wget/1.21"'
    )
    assert when == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert fields["host"] == "shop.example.com" and fields["query_string"] == "b=1"
    assert fields["user_agent"] == "Wget/1.21"


def test_nginx_log_format_string() -> None:
    pattern = from_log_format(
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time'
    )
    assert re.fullmatch(
        pattern,
        '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl" "-" 0.003',
    )


def test_unknown_format_is_a_usage_error(workspace: Workspace) -> None:
    log = workspace.root / "x.log"
    log.write_text("x\n")
    result = invoke(workspace, "load", "access-log", "--format", "iis", log, expect=2)
    assert "unknown access log format" in result.output


# -- custom formats from the README -----------------------------------------------------------


def _readme_block(marker: str) -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```[a-z]*\n(.*?)```", readme, re.DOTALL)
    assert match, f"README has no block marked {marker}"
    return match.group(1)


@pytest.mark.e2e
def test_readme_custom_format_example_loads_and_builds(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path)
    config = tmp_path / "trailhouse.yml"
    config.write_text(_readme_block("custom-format-config"))
    ws.env["TRAILHOUSE_CONFIG"] = str(config)
    formats = yaml.safe_load(config.read_text())["formats"]
    name = next(iter(formats))
    log = tmp_path / "app.log"
    sample = _readme_block("custom-format-sample")
    log.write_text(sample + "not a line of this format\n")
    output = run_ingest(ws, "load", "custom", "--format", name, str(log))
    assert "1 malformed line(s)" in " ".join(output.split())
    run_dbt(ws, *BUILD, "--select", "+custom_logs")
    rows = _rows(ws.lake, "custom_logs", "log_format, fields, event_time")
    assert len(rows) == len(sample.splitlines())
    assert {r[0] for r in rows} == {name}
    # the example's times carry no offset; the format's timezone applies
    zone = formats[name].get("timezone")
    first_time = re.match(r"(\S+ \S+)", sample).group(1)
    expected = datetime.fromisoformat(f"{first_time}{zone}").astimezone(UTC)
    assert min(r[2] for r in rows) == expected
    output = run_ingest(ws, "query", f"select count(*) from custom_{name}", "-o", "csv")
    assert output.splitlines()[1] == str(len(rows))


def test_config_errors_name_the_place(workspace: Workspace) -> None:
    config = workspace.root / "trailhouse.yml"
    log = workspace.root / "a.log"
    log.write_text("x\n")
    cases = {
        "formats: {app: {type: csv}}": "formats.app.type",
        "formats: {app: {type: regex, pattern: '(unclosed'}}": "formats.app.pattern",
        "formats: {app: {type: regex, pattern: 'x', colour: red}}": "unknown key(s) colour",
        "formats: {app: {type: regex, pattern: '(?P<t>x)'}}": "no named group for the time",
        "formats: {app: {type: jsonl, fields: {}}}": "formats.app.fields",
    }
    for text, message in cases.items():
        config.write_text(text)
        result = invoke(
            workspace, "load", "custom", "--format", "app", "--config", config, log, expect=2
        )
        assert message in " ".join(result.output.split()), (text, result.output)
    assert not (workspace.lake / "landing" / "custom_logs").exists()


# -- bounded memory: long lines, many unique lines --------------------------------------------

_PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_mib(ws: Workspace, *args: str) -> float:
    """Peak resident memory of one real `ingest` process (MiB)."""
    import subprocess
    import sys

    from conftest import INGEST

    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, INGEST, *args],
        env=ws.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(result.stdout.split()[-1]) / 1024


def _unique_lines(path: Path, count: int, malformed_every: int = 3) -> None:
    with path.open("w") as handle:
        for n in range(count):
            if n % malformed_every == 0:
                handle.write(f"not an access log line, number {n} of {count}\n")
            else:
                handle.write(
                    f"198.51.{n % 250}.{n % 200} - u{n} [01/Jan/2026:10:{n // 60 % 60:02d}:"
                    f'{n % 60:02d} +0000] "GET /item/{n}?q={n * 7919} HTTP/1.1" 200 {n % 9000} '
                    f'"-" "agent/{n}"\n'
                )


@pytest.mark.slow
def test_memory_does_not_grow_with_unique_lines_or_rejected_lines(tmp_path: Path) -> None:
    """Ten times the lines (a third of them malformed) cost no more memory: no line, digest or
    rejected line is kept per line of the file. Unbounded, 600k lines hold ~200 MB more; bounded,
    DuckDB's buffers for the bigger write still vary by 40-60 MB from run to run."""
    peaks = []
    for count in (60_000, 600_000):
        ws = Workspace.create(tmp_path / str(count))
        log = tmp_path / f"access-{count}.log"
        _unique_lines(log, count)
        peaks.append(_peak_rss_mib(ws, "load", "access-log", str(log)))
        rows = _rows(ws.lake, "landing_http_access_log", "count(*), count(distinct event_id)")
        assert rows == [(count - count // 3, count - count // 3)]
        assert len(_quarantined_lines(ws.lake, "http_access_log", log.name)) == count // 3
    assert peaks[1] - peaks[0] < 100, peaks


@pytest.mark.slow
def test_a_500_mb_line_without_a_newline_is_quarantined_in_bounded_memory(
    tmp_path: Path,
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    log = tmp_path / "huge.log"
    good = '192.0.2.1 - - [01/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n'
    with log.open("wb") as handle:
        handle.write(good.encode())
        block = b"A" * (1 << 20)
        for _ in range(500):
            handle.write(block)  # 500 MiB, no newline until the end of the file
    peak = _peak_rss_mib(ws, "load", "access-log", str(log))
    assert peak < 1024, peak
    assert _rows(ws.lake, "landing_http_access_log", "line_number") == [(1,)]
    (rejected,) = _quarantined_lines(ws.lake, "http_access_log", log.name)
    assert rejected["line_number"] == 2
    assert "line longer than 1,048,576 bytes (524,288,000 bytes" in rejected["reason"]
    assert rejected["line"] == "A" * 1024


@pytest.mark.slow
def test_long_lines_that_parse_are_written_in_bounded_chunks(tmp_path: Path) -> None:
    """Lines just under the 1 MiB limit that parse: a chunk is cut by bytes too, so 100 of
    them (100 MB) land in bounded memory (by line count alone they would take ~1.6 GB)."""
    ws = Workspace.create(tmp_path / "ws")
    log = tmp_path / "long.log"
    url = "/" + "a" * 1_000_000
    with log.open("w") as handle:
        for n in range(100):
            handle.write(
                f'192.0.2.{n % 250} - - [01/Jan/2026:10:00:{n % 60:02d} +0000] "GET {url}?n={n} '
                'HTTP/1.1" 200 1 "-" "ua"\n'
            )
    peak = _peak_rss_mib(ws, "load", "access-log", str(log))
    assert peak < 1024, peak
    assert _rows(ws.lake, "landing_http_access_log", "count(*)") == [(100,)]
