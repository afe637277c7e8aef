"""Line formats parsed in DuckDB (ingest.line_sql) land exactly what Python's line-by-line
parse lands: the same rows, ids, fields, times and quarantined lines, file by file."""

from __future__ import annotations

import _strptime
import dataclasses
import gzip
import json
import os
import random
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import line_landing, line_sql
from ingest.duck import connect
from ingest.lake import Lake
from ingest.line_landing import LineLander, _lines, _LineStream
from ingest.sources import local_files
from ingest.sources.access_log import LineFormat, access_log_format
from ingest.sources.custom_format import custom_format

from conftest import Workspace, run_ingest

GOOD = (
    '192.0.2.{n} - u{n} [01/Jan/2026:10:00:{s:02d} +0130] "GET /a/{n}?q={n} HTTP/1.1" 200 {n} '
    '"-" "ua/{n}"'
)
# Lines DuckDB must leave to Python, or parse exactly as Python does.
AWKWARD = [
    GOOD.format(n=1, s=1),
    GOOD.format(n=1, s=1),  # the same line again: the second gets occurrence 1
    "",
    "   \t ",
    "not an access log line",
    '192.0.2.9 - - [30/Feb/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',  # no such day
    '192.0.2.9 - - [01/Foo/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',  # KeyError
    '192.0.2.9 - - [01/Jan/2026:10:00:00 +2400] "GET / HTTP/1.1" 200 1 "-" "x"',  # a day ahead
    '192.0.2.9 - - [01/Jan/0001:00:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',  # overflows
    '192.0.2.9 - - [2026-01-01T10:00:00+02:00] "GET / HTTP/1.1" 200 1 "-" "x"',  # ISO
    '192.0.2.9 - - [2026-01-01T10:00:00] "GET / HTTP/1.1" 200 1 "-" "x"',  # no offset
    '192.0.2.9 - - [01/Jan/2026:10:00:00.1234567 -0000] "-" 200 - "" ""',
    '192.0.2.9 - - [01/Jan/2026:10:00:00 +0000] "GET /\\"q\\" \\\\x HTTP/1.0" 404 0 "r\'f" "a\\"b"',
    '192.0.2.9 - - [01/Jan/2026:10:00:00 +0000] "GET /é HTTP/1.1" 200 1 "-" "x"',  # UTF-8
    '192.0.2.9 - - [01/Jan/2026:10:00:00 +0000] "GET /\t HTTP/1.1" 200 1 "-" "x"',  # tab
    '192.0.2.9 - - [01/Jan/2026:10:00:00 +0000] "\'); drop table x; --" 200 1 "-" "x" "f"',
    '192.0.2.9 - - [\u0660\u0661/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
    '192.0.2.9\u00a0- - [01/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
]


def _objects(path: Path) -> list:
    objects, _ = local_files.discover([path], suffixes=None, cloudtrail=False)
    return objects


def land(root: Path, line_format: LineFormat, path: Path, *, python: bool) -> dict:
    """Land one file through the DuckDB path, or (python=True) through Python alone; what
    landed, what was quarantined, and the summary."""
    if python:
        line_format = dataclasses.replace(line_format, sql=None)
    lake = Lake.at(str(root))
    con = connect(lake)
    try:
        summary = LineLander(lake, con, "http_access_log", "load").land(_objects(path), line_format)
        landed = root / "landing" / "http_access_log"
        rows = []
        if any(landed.rglob("*.parquet")):
            rows = con.execute(
                f"select * exclude (landed_at) from read_parquet('{landed}/*/*.parquet') "
                "order by line_number"
            ).fetchall()
            columns = [d[0] for d in con.description]
    finally:
        con.close()
    quarantine = root / "_quarantine" / "http_access_log"
    # split on \n only: str.splitlines would also cut at \x85 or \u2028 inside a line
    rejected = [json.loads(line) for p in sorted(quarantine.glob("*.rejected.jsonl"))
                for line in p.read_bytes().split(b"\n") if line]  # fmt: skip
    reasons = [
        json.loads(p.read_text())["reason"] for p in sorted(quarantine.glob("*.reason.json"))
    ]
    return {
        "rows": rows,
        "columns": columns if rows else None,
        "rejected": rejected,
        "reasons": reasons,
        "summary": (
            summary.landed,
            summary.records,
            summary.rejected_records,
            sorted(summary.partitions),
            summary.quarantined,
            summary.failed,
        ),
    }


def assert_same(tmp_path: Path, line_format: LineFormat, path: Path) -> dict:
    in_duckdb = land(tmp_path / "duckdb", line_format, path, python=False)
    in_python = land(tmp_path / "python", line_format, path, python=True)
    assert in_duckdb == in_python
    return in_duckdb


@pytest.mark.parametrize("name", ["combined", "nginx", "common"])
def test_awkward_lines_land_as_python_lands_them(tmp_path: Path, name: str) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(
        "\n".join(AWKWARD).encode()
        + b"\n\xff\xfe not utf-8 \xc3\n"
        + GOOD.format(n=7, s=7).encode()
        + b"\r\r\n"
        + GOOD.format(n=8, s=8).encode()  # the last line has no newline
    )
    landed = assert_same(tmp_path, access_log_format(name), log)
    if name == "combined":
        assert [r[0] for r in landed["rows"]].count(landed["rows"][0][0]) == 1  # ids differ
        assert len(landed["rows"]) >= 6 and landed["rejected"]


def test_custom_log_formats_land_as_python_lands_them(tmp_path: Path) -> None:
    line_format = access_log_format("custom", '%v %h %l %u %t "%r" %>s %b %D "%{User-Agent}i"')
    assert line_format.sql is not None
    log = tmp_path / "vhost.log"
    log.write_text(
        'shop.example.com 203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.0" '
        '200 2326 1234 "Wget/1.21"\nshop 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "" 200 - 1 ""\n'
    )
    assert len(assert_same(tmp_path, line_format, log)["rows"]) == 2


CUSTOM = {
    "strptime": {"type": "regex", "time_format": "%Y-%m-%d %H:%M:%S", "timezone": "+02:00",
                 "pattern": r"^(?P<time>\S+ \S+) (?P<level>[A-Z]+) user=(?P<user>\S*)"
                            r"(?: ip=(?P<ip>\S+))?(?P<rest>.*)$"},
    "iso": {"type": "regex", "pattern": r"(?P<time>\S+) '(?P<who>[^']*)'(?P<opt>x?)"},
    "epoch": {"type": "regex", "time_format": "epoch_ms", "pattern": r"^(?P<time>\d+) (?P<m>.+)"},
}  # fmt: skip
CUSTOM_LINES = [
    "2026-03-01 10:00:00 INFO user=alice ip=203.0.113.7 tail",
    "2026-03-01 10:00:00 INFO user=alice ip=203.0.113.7 tail",
    "2026-3-1  7:05:09 WARN user= rest",
    "2026-02-30 10:00:00 INFO user=bob",
    "2026-03-01 10:00:61 INFO user=bob",
    "2026-03-01T10:00:00Z 'al'ice' x",
    "2026-03-01T10:00:00.123+05:30 '' ",
    "2026-03-01 10:00:00.123456 'x'x",
    "1700000000123 hello 'there'",
    "99999999999999 too far",
    "garbage",
]


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_custom_regex_formats_land_as_python_lands_them(tmp_path: Path, name: str) -> None:
    line_format = custom_format(name, CUSTOM[name])
    assert line_format.sql is not None
    log = tmp_path / "app.log"
    log.write_text("\n".join(CUSTOM_LINES) + "\n")
    assert_same(tmp_path, line_format, log)


def test_patterns_without_an_exact_re2_form_stay_in_python() -> None:
    for pattern in (r"(?P<time>\S+) (?P=time)", r"(?P<time>\S+)(?=x)", r"(?i)(?P<time>\S+)",
                    r"(?:(?P<time>\S+) )*", r"(?P<time>a*)*",
                    # Python takes it, RE2 refuses it (nested repeats past 1000)
                    r"(?P<time>\S+) (?:\d{1,100}){1,20}"):  # fmt: skip
        spec = {"type": "regex", "pattern": pattern}
        assert custom_format("app", spec).sql is None, pattern
    assert custom_format("app", {**CUSTOM["strptime"], "time_format": "%d %b %Y"}).sql is None
    lone_percent = {**CUSTOM["strptime"], "time_format": "%Y-%m-%d %H:%M:%S%"}
    assert custom_format("app", lone_percent).sql is None


def test_strptime_regex_is_pythons() -> None:
    for time_format in ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H.%M.%S.%f", "%Y%m%dT%H%M%S"):
        expected = _strptime._TimeRE_cache.pattern(time_format)
        assert line_sql.strptime_regex(time_format) == expected


def test_a_line_repeated_after_recent_lines_others_is_counted_by_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Far-apart copies: whether the first is still remembered depends on the distinct lines
    between; that file is parsed by Python (the same ids as ever)."""
    monkeypatch.setattr(line_landing, "RECENT_LINES", 3)
    repeated = GOOD.format(n=1, s=1)
    cases = {
        "forgotten": [repeated] + [GOOD.format(n=n, s=n) for n in range(2, 6)] + [repeated],
        "remembered": [repeated] + [GOOD.format(n=2, s=2)] * 4 + [repeated],
    }
    for name, lines in cases.items():
        log = tmp_path / f"{name}.log"
        log.write_text("\n".join(lines) + "\n")
        landed = assert_same(tmp_path / name, access_log_format("combined"), log)
        ids = [row[0] for row in landed["rows"]]
        assert (ids[0] == ids[-1]) == (name == "forgotten")


def test_gzip_and_over_long_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_landing, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(line_landing, "BLOCK_BYTES", 128)
    lines = [GOOD.format(n=n, s=n % 60) for n in range(40)]
    lines[5] = "x" * 1000
    lines[6] = GOOD.format(n=6, s=6).replace("ua/6", "u" * 400)
    log = tmp_path / "access.log.2.gz"
    with gzip.open(log, "wt") as handle:
        handle.write("\n".join(lines) + "\n" + "y" * 700)
    landed = assert_same(tmp_path, access_log_format("combined"), log)
    assert [r["line_number"] for r in landed["rejected"]] == [6, 7, 41]
    assert "(1,001 bytes" in landed["rejected"][0]["reason"]
    assert "(700 bytes" in landed["rejected"][2]["reason"]


def test_a_truncated_gzip_being_written_is_retried_and_an_old_one_quarantined(
    tmp_path: Path,
) -> None:
    log = tmp_path / "access.log.gz"
    log.write_bytes(
        gzip.compress(("\n".join(GOOD.format(n=n, s=n) for n in range(50))).encode())[:-30]
    )
    landed = land(tmp_path / "new", access_log_format("combined"), log, python=False)
    assert landed["summary"][5] and not landed["rows"]  # failed: retried next run
    hour_ago = time.time() - 3600
    os.utime(log, (hour_ago, hour_ago))
    landed = land(tmp_path / "old", access_log_format("combined"), log, python=False)
    assert landed["reasons"] and landed["reasons"][0].startswith("unreadable")


def test_a_file_of_only_bad_lines_is_quarantined_whole(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("nope\nnot this either\n")
    landed = assert_same(tmp_path, access_log_format("combined"), log)
    assert landed["reasons"] == [
        "no line is in the combined format (line 1: does not match the combined format)"
    ]


_FIXTURE = HealthCheck.function_scoped_fixture


# -- the reader: the same lines and numbers as Python's readline ------------------------------


def _read_both(path: Path) -> tuple[list, list]:
    expected = []
    for number, line in enumerate(_lines(path), 1):
        if isinstance(line, line_landing.LineTooLong):
            expected.append((number, "long", line.start, str(line)))
        else:
            expected.append((number, "line", line))
    stream = _LineStream(path)
    got = []
    for chunk in stream.chunks():
        for number, raw, long_length in zip(*chunk.to_pydict().values(), strict=True):
            if long_length is None:
                got.append((number, "line", line_landing._decoded(raw)))
            else:
                too_long = line_landing.LineTooLong(raw, long_length)
                got.append((number, "long", too_long.start, str(too_long)))
    assert stream.error is None and stream.lines == len(expected)
    return got, expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    st.sampled_from([b"\n", b"\r\n", b"\n\n"]),
    st.booleans(),
    st.integers(min_value=1, max_value=64),
)
def test_reader_cuts_lines_as_readline_does(
    tmp_path_factory: pytest.TempPathFactory,
    pieces: list[bytes],
    newline: bytes,
    trailing: bool,
    block: int,
) -> None:
    path = tmp_path_factory.mktemp("lines") / "x.log"
    path.write_bytes(b"#" + newline.join(pieces) + (newline if trailing else b""))  # not gzip
    saved = line_landing.BLOCK_BYTES, line_landing.MAX_LINE_BYTES
    line_landing.BLOCK_BYTES, line_landing.MAX_LINE_BYTES = block, 20
    try:
        got, expected = _read_both(path)
    finally:
        line_landing.BLOCK_BYTES, line_landing.MAX_LINE_BYTES = saved
    assert got == expected


# -- DuckDB and Python agree on arbitrary lines -------------------------------------------------

_PIECES = st.sampled_from([
    "192.0.2.1", " ", "-", "bob", "[01/Jan/2026:10:00:00 +0000]", "[2026-01-01T10:00:00Z]",
    '"GET /a?b=c HTTP/1.1"', '"-"', '""', "200", "0", "\\", '\\"', "\t", "é", "'", "%", "\x0b",
    "\x1c", "\u2000", "٣", "[31/Dec/9999:23:59:59 -0100]", "[29/Feb/2024:00:00:00.5 +0000]",
])  # fmt: skip


def _line() -> st.SearchStrategy[str]:
    template = GOOD.format(n=3, s=3)
    mutated = st.tuples(st.integers(0, len(template)), st.lists(_PIECES, max_size=3)).map(
        lambda t: template[: t[0]] + "".join(t[1]) + template[t[0] :]
    )
    built = st.lists(_PIECES, min_size=1, max_size=14).map("".join)
    return st.one_of(mutated, built, st.text(max_size=30).map(lambda s: s.replace("\n", "")))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_line(), min_size=1, max_size=25), st.sampled_from(["combined", "nginx"]))
def test_duckdb_and_python_agree_on_arbitrary_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], name: str
) -> None:
    root = tmp_path_factory.mktemp("agree")
    log = root / "access.log"
    log.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    assert_same(root, access_log_format(name), log)


def test_hostile_paths_and_patterns_are_never_sql(tmp_path: Path) -> None:
    """A quote in the file's name or in a custom pattern stays data."""
    directory = tmp_path / "it's'; drop table x; --"
    directory.mkdir()
    log = directory / "a'b.log"
    log.write_text("2026-03-01T10:00:00Z it's 'quoted'\n")
    spec = {"type": "regex", "pattern": r"(?P<time>\S+) (?P<word>it's) '(?P<q>[^']+)'"}
    landed = assert_same(tmp_path, custom_format("q", spec), log)
    assert json.loads(landed["rows"][0][3]) == {"time": "2026-03-01T10:00:00Z", "word": "it's",
                                               "q": "quoted"}  # fmt: skip


def test_cli_loads_a_large_generated_log_like_python(tmp_path: Path) -> None:
    """The real command on a few thousand lines with repeats and bad lines; ids are those
    Python gives (checked against a Python-only landing of the same file)."""
    rng = random.Random(5)
    lines = [GOOD.format(n=rng.randrange(50), s=rng.randrange(60)) for _ in range(3000)]
    lines[100:3000:97] = ["broken"] * len(lines[100:3000:97])
    log = tmp_path / "big.log"
    log.write_text("\n".join(lines) + "\n")
    ws = Workspace.create(tmp_path / "ws")
    run_ingest(ws, "load", "access-log", str(log))
    python = land(tmp_path / "python", access_log_format("combined"), log, python=True)
    con = duckdb.connect()
    landed = con.execute(
        f"select * exclude (landed_at) from read_parquet('{ws.lake}/landing/http_access_log/*/"
        "*.parquet') order by line_number"
    ).fetchall()
    assert [r[:-1] for r in landed] == [r[:-1] for r in python["rows"]]  # all but collection
