"""Web server access logs: Apache and nginx `combined` / `common`, and custom layouts given as
an Apache `LogFormat` or nginx `log_format` string.

A format is a regular expression with named groups; `parse_access_line` turns one line into
the fields `http_access_log` needs, with the time in UTC (the line's own offset applied).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from ingest import line_sql

QUOTED = r'(?:[^"\\]|\\.)*'
COMMON = (
    r"(?P<client_ip>\S+) (?P<ident>\S+) (?P<remote_user>\S+) \[(?P<time>[^\]]+)\] "
    rf'"(?P<request>{QUOTED})" (?P<status>\d{{3}}) (?P<bytes_sent>\d+|-)'
)
COMBINED = COMMON + rf' "(?P<referer>{QUOTED})" "(?P<user_agent>{QUOTED})"'
BUILT_IN = {
    "common": COMMON,
    "combined": COMBINED,
    # nginx's default `main` format: combined plus "$http_x_forwarded_for"
    "nginx": COMBINED + rf'(?: "(?P<forwarded_for>{QUOTED})")?',
}

# Apache LogFormat directives and nginx variables → (group, pattern).
_NON_SPACE = r"\S+"
APACHE = {
    "%h": ("client_ip", _NON_SPACE), "%a": ("client_ip", _NON_SPACE),
    "%l": ("ident", _NON_SPACE), "%u": ("remote_user", _NON_SPACE),
    "%t": ("time", r"\[[^\]]+\]"), "%r": ("request", QUOTED),
    "%>s": ("status", r"\d{3}"), "%s": ("status", r"\d{3}"),
    "%b": ("bytes_sent", r"\d+|-"), "%B": ("bytes_sent", r"\d+"),
    "%O": ("bytes_sent", r"\d+|-"),
    "%{Referer}i": ("referer", QUOTED), "%{User-Agent}i": ("user_agent", QUOTED),
    "%{Host}i": ("host", _NON_SPACE), "%v": ("host", _NON_SPACE), "%V": ("host", _NON_SPACE),
    "%D": ("duration_us", r"\d+"), "%T": ("duration_s", r"\d+"),
}  # fmt: skip
NGINX = {
    "$remote_addr": ("client_ip", _NON_SPACE), "$remote_user": ("remote_user", _NON_SPACE),
    "$time_local": ("time", r"[^\]]+"), "$time_iso8601": ("time", _NON_SPACE),
    "$request": ("request", QUOTED), "$status": ("status", r"\d{3}"),
    "$body_bytes_sent": ("bytes_sent", r"\d+|-"), "$bytes_sent": ("bytes_sent", r"\d+|-"),
    "$http_referer": ("referer", QUOTED), "$http_user_agent": ("user_agent", QUOTED),
    "$host": ("host", _NON_SPACE), "$server_name": ("host", _NON_SPACE),
    "$http_x_forwarded_for": ("forwarded_for", QUOTED), "$request_time": ("duration_s", r"[\d.]+"),
}  # fmt: skip
_TOKEN = re.compile(r"%>?\{[^}]*\}[a-zA-Z]|%>?[a-zA-Z]|\$[a-z_0-9]+")


def from_log_format(spec: str) -> str:
    """A regex from an Apache `LogFormat` or nginx `log_format` string; unknown directives
    match a run of non-spaces (or of anything, inside quotes) into a numbered group."""
    out, position, seen, unknown = [], 0, set(), 0
    for match in _TOKEN.finditer(spec):
        out.append(re.escape(spec[position : match.start()]))
        token = match.group()
        name, pattern = APACHE.get(token) or NGINX.get(token) or (None, None)
        quoted = spec[match.start() - 1 : match.start()] == '"'
        if name is None:
            unknown += 1
            name, pattern = f"extra_{unknown}", QUOTED if quoted else _NON_SPACE
        if name in seen:
            out.append(f"(?:{pattern})")
        else:
            seen.add(name)
            if token == "%t":  # the brackets are part of %t, not of the format string
                out.append(r"\[(?P<time>[^\]]+)\]")
            else:
                out.append(f"(?P<{name}>{pattern})")
        position = match.end()
    out.append(re.escape(spec[position:]))
    pattern = "".join(out)
    if "time" not in seen:
        raise ValueError("the log format has no time (%t, $time_local or $time_iso8601)")
    return pattern


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_CLF_TIME = re.compile(
    r"(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? ([+-])(\d{2}):?(\d{2})"
)


def parse_clf_time(text: str) -> datetime:
    """`10/Oct/2000:13:55:36 -0700` (or ISO 8601) → an aware UTC datetime."""
    match = _CLF_TIME.fullmatch(text)
    if not match:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError(f"time without a UTC offset: {text!r}")
        return parsed.astimezone(UTC)
    day, month, year, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    local = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                     micro, tzinfo=timezone(offset))  # fmt: skip
    return local.astimezone(UTC)


_REQUEST = re.compile(r"(?P<method>[A-Z][A-Z0-9_-]*) (?P<target>\S+)(?: (?P<version>HTTP/[\d.]+))?")


def _unescape(value: str | None) -> str | None:
    if value is None or value == "-":
        return None
    return value.replace('\\"', '"').replace("\\\\", "\\")


@dataclass(frozen=True)
class LineFormat:
    """A named line format: `parse` gives (time, fields) or raises ValueError with a reason;
    `sql`, when the format has one, is the same parse in DuckDB (ingest.line_sql)."""

    name: str
    parse: Callable[[str], tuple[datetime, dict[str, str | None]]]
    sql: line_sql.LineSql | None = None


def _unescape_sql(value: str) -> str:
    """`_unescape` in SQL."""
    return (
        f"(case when {value} is null or {value} = '-' then null "
        f"else replace(replace({value}, '\\\"', '\"'), '\\\\', '\\') end)"
    )


_FIELD_GROUPS = ["client_ip", "remote_user", "request", "status", "bytes_sent", "referer",
                 "user_agent", "host", "forwarded_for", "time"]  # fmt: skip


def access_log_sql(pattern: str) -> line_sql.LineSql | None:
    """`parse` below as DuckDB SQL, or None when the pattern has no exact RE2 form."""
    try:
        compiled = line_sql.translate(pattern, anchored=True)
        request_re = line_sql.translate(_REQUEST.pattern, anchored=True)
    except line_sql.Untranslatable:
        return None

    def group(name: str) -> str:
        return compiled.value(name, "m") if name in compiled.named else "null::varchar"

    # computed once per line, in their own step (`derived`), and named below
    derived = {
        "request": f"coalesce({_unescape_sql(group('request'))}, '')",
        "request_parts": f"regexp_extract(request, {line_sql.sql_string(request_re.text)}, "
        f"{request_re.names()})",
    }
    request, matched = "request", "request_parts.g0 <> ''"

    def part(name: str) -> str:
        return f"(case when {matched} then {request_re.value(name, 'request_parts')} end)"

    target = f"coalesce({part('target')}, '')"
    question = f"strpos({target}, '?')"
    path = f"(case when {question} > 0 then left({target}, {question} - 1) else {target} end)"
    query = f"(case when {question} > 0 then substr({target}, {question} + 1) else '' end)"
    bytes_sent = group("bytes_sent")
    fields = [
        ("client_ip", group("client_ip")),
        ("remote_user", _unescape_sql(group("remote_user"))),
        ("request", f"nullif({request}, '')"),
        ("http_method", part("method")),
        ("path", f"nullif({path}, '')"),
        ("query_string", f"nullif({query}, '')"),
        ("http_version", part("version")),
        ("status", group("status")),
        ("bytes_sent", f"(case when {bytes_sent} = '-' then '0' else {bytes_sent} end)"),
        ("referer", _unescape_sql(group("referer"))),
        ("user_agent", _unescape_sql(group("user_agent"))),
        ("host", _unescape_sql(group("host"))),
        ("forwarded_for", _unescape_sql(group("forwarded_for"))),
    ]
    return line_sql.LineSql(
        pattern=compiled,
        time=line_sql.clf_time(group("time")),
        fields=fields,
        unclaimed=line_sql.group_unclaimed(compiled, _FIELD_GROUPS),
        derived=derived,
    )


def access_log_format(name: str, log_format: str | None = None) -> LineFormat:
    if name == "custom":
        if not log_format:
            raise ValueError("--format custom needs --log-format (an Apache or nginx format)")
        pattern = from_log_format(log_format)
    elif name in BUILT_IN:
        pattern = BUILT_IN[name]
    else:
        raise ValueError(f"unknown access log format {name!r}: combined, common, nginx, custom")
    regex = re.compile(pattern)

    def parse(line: str) -> tuple[datetime, dict[str, str | None]]:
        match = regex.fullmatch(line)
        if not match:
            raise ValueError(f"does not match the {name} format")
        groups = match.groupdict()
        event_time = parse_clf_time(groups["time"])
        request = _unescape(groups.get("request")) or ""
        parts = _REQUEST.fullmatch(request)
        target = parts["target"] if parts else None
        path, _, query = (target or "").partition("?")
        fields = {
            "client_ip": groups.get("client_ip"),
            "remote_user": _unescape(groups.get("remote_user")),
            "request": request or None,
            "http_method": parts["method"] if parts else None,
            "path": path or None,
            "query_string": query or None,
            "http_version": parts["version"] if parts else None,
            "status": groups.get("status"),
            "bytes_sent": groups.get("bytes_sent") if groups.get("bytes_sent") != "-" else "0",
            "referer": _unescape(groups.get("referer")),
            "user_agent": _unescape(groups.get("user_agent")),
            "host": _unescape(groups.get("host")),
            "forwarded_for": _unescape(groups.get("forwarded_for")),
        }
        return event_time, fields

    return LineFormat(name, parse, access_log_sql(pattern))
