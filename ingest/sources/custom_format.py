"""Custom log formats, defined once in `trailhouse.yml` under `formats:`.

    formats:
      app_audit:
        type: regex                   # a regular expression with named groups
        pattern: '^(?P<time>\\S+ \\S+) (?P<level>\\w+) user=(?P<user>\\S+) (?P<message>.*)$'
        time_field: time              # the group holding the time (default: time)
        time_format: '%Y-%m-%d %H:%M:%S'   # strptime; default ISO 8601; or epoch, epoch_ms
        timezone: '+02:00'            # for times without an offset (default UTC)
      vpn:
        type: jsonl                   # one JSON object per line
        time_field: ts                # a dotted path into the object
        time_format: epoch
        fields: {user: actor.name, client_ip: src.ip, action: event}

Lines land in `landing/custom_logs/` and dbt writes them to the `custom_logs` dataset (one
`log_format` per format, its named fields in `fields`); `ingest query` shows each format as a
view `custom_<name>` with one column per field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from ingest import line_sql
from ingest.sources.access_log import LineFormat

KEYS = {
    "regex": {"type", "pattern", "time_field", "time_format", "timezone", "description"},
    "jsonl": {"type", "fields", "time_field", "time_format", "timezone", "description"},
}
_OFFSET = re.compile(r"^(?:UTC|Z|([+-])(\d{2}):?(\d{2}))$")


def load_formats(path: Path) -> dict[str, dict[str, Any]]:
    """The `formats:` of the config file, checked with the rest of it (`ingest.config`)."""
    from ingest.config import load

    return load(path).formats


def check_format(name: str, spec: Any, where: str) -> list[str]:
    """Problems of one format spec; `where` names its place (file, line, key)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
        return [f"{where}: a format name is lower-case letters, digits and _"]
    if not isinstance(spec, dict) or spec.get("type") not in KEYS:
        return [f"{where}.type must be one of {', '.join(KEYS)}"]
    unknown = set(spec) - KEYS[spec["type"]]
    if unknown:
        return [f"{where}: unknown key(s) {', '.join(sorted(unknown))}"]
    if spec["type"] == "regex":
        try:
            compiled = re.compile(str(spec.get("pattern", "")))
        except re.error as exc:
            return [f"{where}.pattern: {exc}"]
        if spec.get("time_field", "time") not in compiled.groupindex:
            return [f"{where}.pattern has no named group for the time field"]
    elif not isinstance(spec.get("fields"), dict) or not spec["fields"]:
        return [f"{where}.fields must map column names to JSON paths"]
    try:
        _timezone(spec.get("timezone"), where)
    except ValueError as exc:
        return [str(exc)]
    return []


def _timezone(value: Any, where: str) -> timezone:
    match = _OFFSET.match(str(value or "UTC"))
    if not match:
        raise ValueError(f"{where}.timezone must be UTC or an offset such as +02:00")
    if not match.group(1):
        return UTC
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(-offset if match.group(1) == "-" else offset)


def parse_time(text: Any, time_format: str | None, default_zone: timezone) -> datetime:
    if time_format in ("epoch", "epoch_ms"):
        seconds = float(text) / (1000 if time_format == "epoch_ms" else 1)
        return datetime.fromtimestamp(seconds, UTC)
    text = str(text)
    if time_format and time_format != "iso8601":
        parsed = datetime.strptime(text, time_format)
    else:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed.astimezone(UTC)


def _dig(document: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def custom_format(name: str, spec: dict[str, Any]) -> LineFormat:
    zone = _timezone(spec.get("timezone"), name)
    time_field = spec.get("time_field", "time")
    time_format = spec.get("time_format")
    if spec["type"] == "regex":
        regex = re.compile(spec["pattern"])

        def parse(line: str) -> tuple[datetime, dict[str, str | None]]:
            match = regex.search(line)
            if not match:
                raise ValueError(f"does not match the {name} pattern")
            fields = match.groupdict()
            return parse_time(fields[time_field], time_format, zone), fields

        return LineFormat(name, parse, regex_sql(spec, zone))
    mapping: dict[str, str] = spec["fields"]

    def parse_json(line: str) -> tuple[datetime, dict[str, str | None]]:
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        stamp = _dig(document, time_field)
        if stamp is None:
            raise ValueError(f"no {time_field} in the object")
        fields = {}
        for column, path in mapping.items():
            value = _dig(document, path)
            fields[column] = value if value is None or isinstance(value, str) else (
                orjson.dumps(value).decode())  # fmt: skip
        return parse_time(stamp, time_format, zone), fields

    return LineFormat(name, parse_json)


def regex_sql(spec: dict[str, Any], zone: timezone) -> line_sql.LineSql | None:
    """`parse` of a regex format as DuckDB SQL, or None when the pattern has no exact RE2 form
    or the time format has no exact SQL reading (those formats are parsed in Python)."""
    try:
        compiled = line_sql.translate(spec["pattern"], anchored=False)
    except line_sql.Untranslatable:
        return None
    time_field = spec.get("time_field", "time")
    time_format = spec.get("time_format")
    text = compiled.value(time_field, "m")
    offset = int(zone.utcoffset(None).total_seconds()) // 60
    if time_format in (None, "iso8601"):
        time = line_sql.iso_time(text, offset)
    elif time_format in ("epoch", "epoch_ms"):
        time = line_sql.epoch_time(text, 1 if time_format == "epoch" else 1000)
    else:
        time = line_sql.strptime_time(text, time_format, offset)
    if time is None:
        return None
    names = re.compile(spec["pattern"]).groupindex  # groupdict()'s order
    return line_sql.LineSql(
        pattern=compiled,
        time=time,
        fields=[(name, compiled.value(name, "m")) for name in names],
        unclaimed=line_sql.group_unclaimed(compiled),
    )


def field_names(spec: dict[str, Any]) -> list[str]:
    if spec["type"] == "regex":
        return list(re.compile(spec["pattern"]).groupindex)
    return list(spec["fields"])
