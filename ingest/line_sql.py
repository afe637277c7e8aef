"""A line format as DuckDB SQL: the same fields and times Python's `LineFormat.parse` gives, for
the lines where DuckDB provably agrees with it.

Python's `re` and DuckDB's RE2 read the same pattern differently in places (Unicode `\\d`/`\\s`,
back-references, look-arounds, empty-width loops, a group that did not take part: None in
Python, '' in DuckDB). So a pattern is not handed over as text: Python parses it (`re._parser`)
and it is written out again as RE2 from the parse tree, refusing (None: the format stays in
Python) any construct whose meaning differs. The SQL then only claims lines that are plain
ASCII (no control characters but tab), where both engines' classes mean the same, and times in
forms whose parse is exact; every other line is left to `parse` (the "slow" lines), so the
result is the same line for line.
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ingest.duck import sql_string

# A line DuckDB may parse: only tab and printable ASCII (after trailing \r are cut).
NOT_PLAIN = r"[^\t -~]"
_RE2_MAX_REPEAT = 1000
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s", sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
}  # fmt: skip
_ANCHORS = {
    sre.AT_BEGINNING: "^", sre.AT_BEGINNING_STRING: r"\A",
    sre.AT_END: "$", sre.AT_END_STRING: r"\z",
    sre.AT_BOUNDARY: r"\b", sre.AT_NON_BOUNDARY: r"\B",
}  # fmt: skip
# Flags that do not change what a parsed pattern matches (VERBOSE only affects parsing).
_HARMLESS_FLAGS = sre.SRE_FLAG_UNICODE | sre.SRE_FLAG_VERBOSE


class Untranslatable(ValueError):
    """A construct RE2 does not have, or reads differently."""


@dataclass
class Re2:
    """A pattern written out for RE2: `text` captures every Python group (and hidden witness
    groups) as `g<n>`; `value(name, m)` is the SQL for the named group's Python value and
    `ambiguous(name, m)` the SQL that is true when DuckDB's '' cannot tell '' from None."""

    text: str = ""
    count: int = 0
    named: dict[str, tuple[int, Any]] = field(default_factory=dict)  # name → (g, witness)
    min_width: int = 0

    def names(self) -> str:
        return "[" + ", ".join(f"'g{n}'" for n in range(self.count)) + "]"

    def value(self, name: str, m: str) -> str:
        index, witness = self.named[name]
        group = f"{m}.g{index}"
        if witness == "always":
            return group
        if witness == "nonempty":
            return f"nullif({group}, '')"
        if isinstance(witness, int):
            return f"case when {m}.g{witness} = '' then null else {group} end"
        return f"nullif({group}, '')"

    def ambiguous(self, name: str, m: str) -> str | None:
        index, witness = self.named[name]
        return f"{m}.g{index} = ''" if witness is None else None


def translate(
    pattern: str, *, anchored: bool, ignorecase: bool = False, start: bool = False
) -> Re2:
    """RE2 text for a Python pattern: `anchored` for fullmatch, `start` for match, else
    search. Group 0 is the whole match. Raises Untranslatable."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise Untranslatable(str(exc)) from None
    allowed = _HARMLESS_FLAGS | (sre.SRE_FLAG_IGNORECASE if ignorecase else 0)
    if parsed.state.flags & ~allowed:
        raise Untranslatable("flags")
    out = Re2(count=1)
    by_index = {index: name for name, index in parsed.state.groupdict.items()}
    body = _write(parsed, out, by_index, "always", allowed)
    case = "(?i)" if ignorecase else ""
    out.text = case + (rf"\A({body})\z" if anchored else rf"\A({body})" if start else f"({body})")
    out.min_width = parsed.getwidth()[0]
    _re2_accepts(out.text)
    return out


def _re2_accepts(text: str) -> None:
    """RE2 refuses some patterns Python takes (nested repeats multiplying past 1000, a
    program over its memory budget): those stay on the Python path instead of failing every
    chunk."""
    con = duckdb.connect()
    try:
        con.execute("select regexp_matches('', $pattern)", {"pattern": text})
    except duckdb.Error as exc:
        raise Untranslatable(f"RE2 refuses it: {exc}") from None
    finally:
        con.close()


def _write(items: Any, out: Re2, names: dict[int, str], witness: Any, flags: int) -> str:
    return "".join(_item(op, av, out, names, witness, flags) for op, av in items)


def _item(op: Any, av: Any, out: Re2, names: dict[int, str], witness: Any, flags: int) -> str:
    if op is sre.LITERAL:
        return _char(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre.ANY:
        return "."
    if op is sre.IN:
        return _charset(av)
    if op is sre.AT:
        return _ANCHORS[av]
    if op is sre.BRANCH:
        if not any(_has_groups(alt, names) for alt in av[1]):
            return "(?:" + "|".join(_write(alt, out, names, witness, flags) for alt in av[1]) + ")"
        return "(?:" + "|".join(_optional(alt, out, names, flags) for alt in av[1]) + ")"
    if op is sre.SUBPATTERN:
        group, add_flags, del_flags, inner = av
        if (add_flags | del_flags) & ~flags:
            raise Untranslatable("scoped flags")
        if group not in names:  # unnamed: not in groupdict(), so not captured at all
            return f"(?:{_write(inner, out, names, witness, flags)})"
        index = out.count
        out.count += 1
        known = "nonempty" if inner.getwidth()[0] > 0 else witness
        out.named[names[group]] = (index, "always" if witness == "always" else known)
        return f"({_write(inner, out, names, witness, flags)})"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _repeat(op, av, out, names, witness, flags)
    raise Untranslatable(str(op))  # back-references, look-arounds, atomic, possessive …


def _repeat(op: Any, av: Any, out: Re2, names: dict[int, str], witness: Any, flags: int) -> str:
    low, high, inner = av
    unbounded = high == sre.MAXREPEAT
    if low > _RE2_MAX_REPEAT or (not unbounded and high > _RE2_MAX_REPEAT):
        raise Untranslatable("repeat count")
    has_groups = _has_groups(inner, names)
    if (unbounded or high > 1) and (has_groups or inner.getwidth()[0] == 0):
        # a group captured in a loop, or a loop body that can match nothing: the engines'
        # rules differ there
        raise Untranslatable("group or empty match in a loop")
    lazy = "?" if op is sre.MIN_REPEAT else ""
    bounds = f"{{{low},}}" if unbounded else f"{{{low},{high}}}"
    if low == 0 and has_groups:
        body = _optional(inner, out, names, flags)
    else:
        body = f"(?:{_write(inner, out, names, witness, flags)})"
    return f"{body}{bounds}{lazy}"


def _optional(items: Any, out: Re2, names: dict[int, str], flags: int) -> str:
    """Something that may not take part: when it always consumes a character, a hidden group
    around it tells (by being '') that the groups inside did not take part."""
    if items.getwidth()[0] == 0:
        return f"(?:{_write(items, out, names, None, flags)})"
    index = out.count
    out.count += 1
    return f"({_write(items, out, names, index, flags)})"


def _has_groups(items: Any, names: dict[int, str]) -> bool:
    return any(o is sre.SUBPATTERN and a[0] in names for o, a in _walk(items))


def _walk(items: Any) -> Any:
    for op, av in items:
        yield op, av
        if op is sre.SUBPATTERN:
            yield from _walk(av[3])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            yield from _walk(av[2])
        elif op is sre.BRANCH:
            for alt in av[1]:
                yield from _walk(alt)


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


def _charset(items: list) -> str:
    parts, negate = [], ""
    for op, av in items:
        if op is sre.NEGATE:
            negate = "^"
        elif op is sre.LITERAL:
            parts.append(_char(av))
        elif op is sre.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
        else:
            raise Untranslatable(str(op))
    return f"[{negate}{''.join(parts)}]"


# -- times ------------------------------------------------------------------------------------
# Each reads the time text `t` into struct columns (computed once, in their own step) and gives
# (columns, valid, timestamp): valid only where Python's parse of the same text gives that
# timestamp, never raises and cannot overflow (years 2 … 9998).


@dataclass(frozen=True)
class TimeSql:
    columns: dict[str, str]
    valid: str
    stamp: str


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _int(value: str) -> str:
    return f"try_cast({value} as integer)"


def _clock(y: str, mo: str, d: str, h: str, mi: str, s: str, micro: str, offset: str) -> TimeSql:
    """(valid, timestamp) from SQL integers for a local time and its offset (minutes east)."""
    valid = (
        f"{y} between 2 and 9998 and {h} <= 23 and {mi} <= 59 and {s} <= 59 "
        f"and try(make_date({y}, {mo}, {d})) is not null"
    )
    stamp = (
        f"cast(make_timestamp({y}, {mo}, {d}, {h}, {mi}, {s}) + to_microseconds({micro}) "
        f"- to_minutes({offset}) as timestamptz)"
    )
    return TimeSql({}, valid, stamp)


def _fraction(digits: str) -> str:
    """Microseconds of a fraction's digits (Python: int(digits[:6].ljust(6, "0")))."""
    return f"coalesce(cast(nullif(rpad(left({digits}, 6), 6, '0'), '') as integer), 0)"


def _offset(sign: str, hours: str, minutes: str) -> tuple[str, str]:
    """(valid, minutes east of UTC) of a ±HH[:]MM offset; Python refuses a day or more."""
    return (
        f"{_int(hours)} <= 23 and {_int(minutes)} <= 59",
        f"(case when {sign} = '-' then -1 else 1 end) * ({_int(hours)} * 60 + {_int(minutes)})",
    )


_CLF = (
    r"\A([0-9]{2})/([A-Z][a-z]{2})/([0-9]{4}):([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))? ([+-])([0-9]{2}):?([0-9]{2})\z"
)
_CLF_FIXED = r"[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}"
# The ISO forms whose reading by datetime.fromisoformat (after Z → +00:00) is certain.
_ISO = (
    r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{3}|[0-9]{6}))?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))?\z"
)


def clf_time(t: str) -> TimeSql:
    """`parse_clf_time`: `10/Oct/2000:13:55:36 -0700`, or an ISO time with its offset."""
    c = "time_clf"
    names = "['d','mo','y','h','mi','s','f','sg','oh','om']"
    month = f"list_position({_MONTHS}, {c}.mo)"
    offset_ok, offset = _offset(f"{c}.sg", f"{c}.oh", f"{c}.om")
    clf = _clock(
        _int(f"{c}.y"), month, _int(f"{c}.d"), _int(f"{c}.h"), _int(f"{c}.mi"),
        _int(f"{c}.s"), _fraction(f"{c}.f"), offset,
    )  # fmt: skip
    iso = iso_time(t, None, only_if=f"{c}.d = ''")
    is_clf = f"{c}.d <> ''"
    # The usual `10/Oct/2000:13:55:36 -0700` has fixed places: cut, not matched with groups.
    fixed = (
        f"struct_pack(d := {t}[1:2], mo := {t}[4:6], y := {t}[8:11], h := {t}[13:14], "
        f"mi := {t}[16:17], s := {t}[19:20], f := '', sg := {t}[22:22], oh := {t}[23:24], "
        f"om := {t}[25:26])"
    )
    clf_columns = {
        c: f"case when regexp_full_match({t}, {sql_string(_CLF_FIXED)}) then {fixed} "
        f"else regexp_extract({t}, {sql_string(_CLF)}, {names}) end"
    }
    return TimeSql(
        {**clf_columns, **iso.columns},
        f"(case when {is_clf} then {month} is not null and {offset_ok} and {clf.valid} "
        f"else {iso.valid} end)",
        f"(case when {is_clf} then {clf.stamp} else {iso.stamp} end)",
    )


def iso_time(t: str, default_offset: int | None, only_if: str = "true") -> TimeSql:
    """`datetime.fromisoformat` on the common ISO forms; a time without an offset takes
    `default_offset` (minutes), or is not claimed when there is none (Python refuses it)."""
    c = "time_iso"
    names = "['y','mo','d','h','mi','s','f','z','sg','oh','om']"
    offset_ok, offset = _offset(f"{c}.sg", f"{c}.oh", f"{c}.om")
    fallback = "null" if default_offset is None else str(default_offset)
    minutes = f"(case when {c}.z = 'Z' then 0 when {c}.sg <> '' then {offset} else {fallback} end)"
    clock = _clock(
        _int(f"{c}.y"), _int(f"{c}.mo"), _int(f"{c}.d"), _int(f"{c}.h"), _int(f"{c}.mi"),
        _int(f"{c}.s"), _fraction(f"{c}.f"), minutes,
    )  # fmt: skip
    if default_offset is None:
        has_offset = f"({c}.z = 'Z' or ({c}.sg <> '' and {offset_ok}))"
    else:
        has_offset = f"({c}.sg = '' or {offset_ok})"
    return TimeSql(
        {c: f"case when {only_if} then regexp_extract({t}, {sql_string(_ISO)}, {names}) end"},
        f"({c}.y <> '' and {has_offset} and {clock.valid})",
        clock.stamp,
    )


def epoch_time(t: str, per_second: int) -> TimeSql:
    """`datetime.fromtimestamp(float(t) / per_second)`: exact for whole numbers small enough
    that the float keeps every microsecond (below 2^33 seconds, year 2242)."""
    digits = 11 if per_second == 1 else 13
    number = f"try_cast({t} as bigint)"
    return TimeSql(
        {},
        f"(regexp_full_match({t}, '[0-9]{{1,{digits}}}') "
        f"and {number} < {8_000_000_000 * per_second})",
        f"cast(make_timestamp({number} * {1_000_000 // per_second}) as timestamptz)",
    )


# strptime directives as `_strptime.TimeRE` writes them (a test compares the two).
_STRPTIME = {
    "d": r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])",
    "f": r"(?P<f>[0-9]{1,6})",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "Y": r"(?P<Y>\d\d\d\d)",
}
_NEEDED = set("YmdHMS")


def strptime_regex(time_format: str) -> str | None:
    """The regex `time.strptime` matches (case-insensitively, from the start) for a format
    of %Y %m %d %H %M %S and optionally %f, each once; None for any other format."""
    directives = re.findall(r"%(.)", time_format)
    if not set(directives) >= _NEEDED or not set(directives) <= set(_STRPTIME):
        return None
    if len(directives) != len(set(directives)):
        return None
    text = re.sub(r"([\\.^$*+?\(\){}\[\]|])", r"\\\1", time_format)
    text = re.sub(r"\s+", r"\\s+", text)
    out = ""
    while "%" in text:
        at = text.index("%") + 1
        if at >= len(text) or text[at] not in _STRPTIME:  # a lone or escaped `%`
            return None
        out += text[: at - 1] + _STRPTIME[text[at]]
        text = text[at + 1 :]
    return out + text


def strptime_time(t: str, time_format: str, default_offset: int) -> TimeSql | None:
    """`datetime.strptime(t, format)` in the default zone, for the formats strptime_regex
    takes: the first match from the start must reach the end, then the date must exist."""
    regex = strptime_regex(time_format)
    if regex is None:
        return None
    try:
        compiled = translate(regex, anchored=False, ignorecase=True, start=True)
    except Untranslatable:
        return None
    c = "time_strptime"

    def part(name: str) -> str:
        return f"try_cast(trim({compiled.value(name, c)}) as integer)"  # int(" 5") == 5

    micro = _fraction(compiled.value("f", c)) if "f" in compiled.named else "0"
    clock = _clock(
        part("Y"), part("m"), part("d"), part("H"), part("M"), part("S"), micro,
        str(default_offset),
    )  # fmt: skip
    return TimeSql(
        {c: f"regexp_extract({t}, {sql_string(compiled.text)}, {compiled.names()})"},
        f"({c}.g0 = {t} and {t} <> '' and {clock.valid})",
        clock.stamp,
    )


# -- a whole format ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSql:
    """How DuckDB parses one format: the line pattern (its groups are the struct `m`), the
    time, the `fields` JSON (keys in Python's order), and when a line is not claimed."""

    pattern: Re2
    time: TimeSql
    fields: list[tuple[str, str]]  # (key, SQL over m)
    unclaimed: list[str]  # SQL conditions under which Python must parse the line
    derived: dict[str, str] = field(default_factory=dict)  # columns computed once, from m


def json_fields(fields: list[tuple[str, str]]) -> str:
    """`orjson.dumps(dict)` of string-or-null values, for plain ASCII text (both write it
    compact and escape the same few characters there; a test holds them to it)."""
    pairs = ", ".join(f"{sql_string(key)}, {value}" for key, value in fields)
    return f"json_object({pairs})"


def group_unclaimed(pattern: Re2, names: list[str] | None = None) -> list[str]:
    """The lines where a group's '' cannot be told from a group that did not take part."""
    chosen = pattern.named if names is None else [n for n in names if n in pattern.named]
    return [sql for name in chosen if (sql := pattern.ambiguous(name, "m"))]


def select_lines(line_sql: LineSql) -> str:
    """One statement over `line_stream` (line_number, line with its \\n, long_length): each
    line DuckDB can parse becomes a landed row; every other line that is not blank comes out
    with a null event_time, its bytes (base64) in `raw` and, for an over-long line, its
    length in `fields`, for Python to parse. Parameters: stream, log_format, source_object,
    collection, landed_at."""
    pattern = line_sql.pattern
    matched = (
        "m.g0 <> ''"
        if pattern.min_width > 0
        else f"regexp_matches(text, {sql_string(pattern.text)})"
    )
    claimed = " and ".join(
        ["plain", matched, line_sql.time.valid, *(f"not ({u})" for u in line_sql.unclaimed)]
    )
    derived = "".join(f", {expr} as {name}" for name, expr in line_sql.derived.items())
    # one step per time column: a later one may use an earlier one's fields
    steps, source = [], "derived"
    for n, (name, expr) in enumerate(line_sql.time.columns.items()):
        steps.append(f"time_{n} as (select *, {expr} as {name} from {source}),")
        source = f"time_{n}"
    time_steps = "\n        ".join(steps)
    return f"""
        with decoded as (
            select line_number, line, long_length,
                case when long_length is null then rtrim(try(decode(line)), e'\\r\\n') end as text
            from line_stream
        ),
        kept as (
            select *, coalesce(not regexp_matches(text, {sql_string(NOT_PLAIN)}), false) as plain
            from decoded
            -- a blank line carries nothing (Python: not line.strip())
            where text is null or not regexp_full_match(text, '[ \\t]*')
        ),
        matched as (
            select *,
                case when plain then regexp_extract(text, {sql_string(pattern.text)},
                    {pattern.names()}) end as m
            from kept
        ),
        derived as (select *{derived} from matched),
        {time_steps}
        timed as (select * from {source}),
        parsed as (
            select *, coalesce({claimed}, false) as claimed from timed
        ),
        landed as (
            -- the time only where it is valid: make_timestamp raises on a day that is not
            select *, case when claimed then {line_sql.time.stamp} end as stamp from parsed
        )
        select
            case when claimed then left(sha256(concat($stream, e'\\n0\\n', text)), 32) end
                as event_id,
            line_number,
            case when claimed then text else to_base64(line) end as raw,
            case when claimed then {json_fields(line_sql.fields)} else cast(long_length as varchar)
                end as fields,
            $log_format as log_format,
            $source_object as source_object,
            $collection as collection,
            stamp as event_time,
            cast(stamp as date) as event_date,
            $landed_at::timestamptz as landed_at
        from landed
    """
