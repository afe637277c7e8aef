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
    """A named line format: `parse` gives (time, fields) or raises ValueError with a reason."""

    name: str
    parse: Callable[[str], tuple[datetime, dict[str, str | None]]]


def access_log_format(name: str, log_format: str | None = None) -> LineFormat:
    if name == "custom":
        if not log_format:
            raise ValueError("--format custom needs --log-format (an Apache or nginx format)")
        regex = re.compile(from_log_format(log_format))
    elif name in BUILT_IN:
        regex = re.compile(BUILT_IN[name])
    else:
        raise ValueError(f"unknown access log format {name!r}: combined, common, nginx, custom")

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

    return LineFormat(name, parse)
