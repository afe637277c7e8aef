"""Sigma rule → dbt detection model (SQL with the project's cross-engine macros) and its meta.

pySigma parses the rule (modifiers, lists, `1 of selection_*`, `all of them`, `not`,
parentheses) into a condition tree; this module writes that tree as a SQL `where` clause.
Every comparison goes through a macro (`text_equals`, `text_like`, `regex_matches`,
`ip_in_cidr`, `list_any`, `json_path_strings`, ...) so the model is engine-neutral and no value
is ever spliced into SQL by hand: values are Jinja string literals, quoted by the macro.

Counting rules (the legacy `| count(...) by ... > N` with `timeframe`, which pySigma refuses,
and `event_count` / `value_count` correlations) become the framework's windowed form,
`threshold_matches`, over sliding windows of the timeframe (whole minutes, at most an hour: the
alerts build reads the previous day's last hour, so windows cross midnight).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from ingest.sigma.fields import Field, as_text, resolve
from ingest.sigma.semantics import KEYWORDS, Unsupported, regex_source, string_parts

SEVERITY = {"informational": "info", "low": "low", "medium": "medium", "high": "high",
            "critical": "critical"}  # fmt: skip
COMPARE = {
    SigmaCompareExpression.CompareOperators.LT: "<",
    SigmaCompareExpression.CompareOperators.LTE: "<=",
    SigmaCompareExpression.CompareOperators.GT: ">",
    SigmaCompareExpression.CompareOperators.GTE: ">=",
}
# The default of the dbt var detection_lookback_minutes (macros/detections.sql).
MAX_WINDOW_MINUTES = 60


def literal(value: Any) -> str:
    """A Jinja literal (string, number or list); JSON spelling is valid Jinja."""
    return json.dumps(value, ensure_ascii=True)


@dataclass
class Threshold:
    """Count the matching events per group and window; alert from `at_least` events (or
    distinct values of `distinct`)."""

    group_by: list[str]
    minutes: int
    at_least: int
    distinct: str | None = None
    distinct_field: str | None = None
    note: str = ""


@dataclass
class Compiled:
    where: str
    threshold: Threshold | None = None


# -- values ------------------------------------------------------------------------------------


def like_pattern(value: SigmaString) -> str | None:
    """The LIKE pattern (escape character `\\`) of a Sigma string, or None without wildcards."""
    parts = string_parts(value)
    if not any(isinstance(p, SpecialChars) for p in parts):
        return None
    out = []
    for part in parts:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        else:
            out.append(re.sub(r"([\\%_])", r"\\\1", part))
    return "".join(out)


def plain_text(value: SigmaString) -> str:
    return "".join(p for p in string_parts(value) if isinstance(p, str))


def predicate(value: Any, subject: str, other: str | None = None) -> str:
    """A Jinja expression rendering the SQL test of one value against `subject` (SQL text).
    `other` is the SQL of the referenced field, for `fieldref`."""
    s = literal(subject)
    if isinstance(value, SigmaString):
        cased = ", cased=true" if isinstance(value, SigmaCasedString) else ""
        pattern = like_pattern(value)
        if pattern is None:
            return f"text_equals({s}, {literal(plain_text(value))}{cased})"
        if pattern == "%":
            return f"text_like({s}, '%')"
        return f"text_like({s}, {literal(pattern)}{cased})"
    if isinstance(value, SigmaNumber | SigmaBool):
        number = value.boolean if isinstance(value, SigmaBool) else value.number
        return f"text_equals({s}, {literal(as_text(number))})"
    if isinstance(value, SigmaRegularExpression):
        return f"regex_matches({s}, {literal(regex_source(value))})"
    if isinstance(value, SigmaCIDRExpression):
        return f"ip_in_cidr({s}, sql_string({literal(value.cidr)}))"
    if isinstance(value, SigmaCompareExpression):
        return f"number_compare({s}, {literal(COMPARE[value.op])}, {value.number.number})"
    if isinstance(value, SigmaFieldReference):
        how = "starts" if value.starts_with else "ends" if value.ends_with else "equals"
        return f"text_compare({s}, {literal(other)}, {literal(how)})"
    raise Unsupported(f"value type {type(value).__name__}")


def subject_sql(resolved: Field) -> str:
    """SQL of a column field's value as text."""
    assert resolved.column is not None
    if resolved.column in {"read_only", "management_event"}:
        return f"cast({resolved.column} as varchar)"
    return resolved.column


def values_expression(resolved: Field) -> str:
    """Jinja expression of the list of text values at a JSON path."""
    return f"json_path_strings({literal(resolved.document)}, {literal(list(resolved.keys))})"


def leaf(item: ConditionFieldEqualsValueExpression) -> str:
    """SQL (with `{{ }}` macro calls) for one field/value test."""
    value = item.value
    if isinstance(value, SigmaExpansion):
        tests = [leaf(ConditionFieldEqualsValueExpression(item.field, v)) for v in value.values]
        return "(" + " or ".join(tests) + ")"
    target = resolve(item.field)
    if isinstance(value, SigmaNull | SigmaExists):
        present = value.exists if isinstance(value, SigmaExists) else False
        if target.column:
            return f"{subject_sql(target)} is {'not ' if present else ''}null"
        test = "{{ list_any(" + values_expression(target) + ", 'v', 'true') }}"
        return test if present else f"not {test}"
    other = None
    if isinstance(value, SigmaFieldReference):
        referenced = resolve(value.field)
        if referenced.is_list:
            # compare with every value of the referenced field
            inner = predicate(value, "v" if target.is_list else subject_sql(target), "w")
            if target.is_list:
                inner = f"list_any({values_expression(target)}, 'v', {inner})"
            return "{{ list_any(" + values_expression(referenced) + f", 'w', {inner}) }}}}"
        other = subject_sql(referenced)
    if target.column:
        return "{{ " + predicate(value, subject_sql(target), other) + " }}"
    return (
        "{{ list_any("
        + values_expression(target)
        + ", 'v', "
        + predicate(value, "v", other)
        + ") }}"
    )


# -- conditions ----------------------------------------------------------------------------------


def _plain_equality(node: ConditionItem) -> tuple[str, str] | None:
    """(field, value) of a case-insensitive whole-value test on a column, else None."""
    if not isinstance(node, ConditionFieldEqualsValueExpression) or node.field is None:
        return None
    value = node.value
    if type(value) is not SigmaString or like_pattern(value) is not None:
        return None
    if resolve(node.field).column is None:
        return None
    return node.field, plain_text(value)


def where(node: ConditionItem, indent: int = 8) -> str:
    """A condition tree as a SQL boolean expression starting at column `indent`. NULL (a
    missing field) must count as false even under `not`, so a negated part is wrapped in
    `coalesce(..., false)`."""
    pad = " " * indent
    if isinstance(node, ConditionAND):
        return f"\n{pad}and ".join(_grouped(arg, indent) for arg in node.args)
    if isinstance(node, ConditionOR):
        tests: list[str] = []
        same_field: dict[str, list[str]] = {}
        for arg in node.args:
            plain = _plain_equality(arg)
            if plain:
                same_field.setdefault(plain[0], []).append(plain[1])
            else:
                tests.append(_grouped(arg, indent))
        for path, values in same_field.items():
            subject = literal(subject_sql(resolve(path)))
            if len(values) == 1:
                tests.insert(0, f"{{{{ text_equals({subject}, {literal(values[0])}) }}}}")
            else:
                tests.insert(0, f"{{{{ text_in({subject}, {literal(values)}) }}}}")
        return f"\n{pad}or ".join(tests)
    if isinstance(node, ConditionNOT):
        inner = where(node.args[0], indent + 4)
        return f"not coalesce(\n{pad}    {inner},\n{pad}    false\n{pad})"
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return leaf(node)
    if isinstance(node, ConditionValueExpression):
        raise Unsupported(KEYWORDS)
    raise Unsupported(f"condition element {type(node).__name__}")


def _grouped(node: ConditionItem, indent: int) -> str:
    """An operand of `and`/`or`: parenthesized when it is itself several lines of them."""
    if isinstance(node, ConditionOR | ConditionAND):
        sql = where(node, indent + 4)
        if "\n" in sql:
            return f"(\n{' ' * (indent + 4)}{sql}\n{' ' * indent})"
        return sql
    return where(node, indent)


# -- counting rules -----------------------------------------------------------------------------


def timeframe_minutes(text: str) -> tuple[int, str]:
    """Minutes of a Sigma timeframe (`30s`, `15m`, `1h`), rounded up to whole minutes, and a
    note when rounded."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdSMHD])\s*", str(text))
    if not match:
        raise Unsupported(f"timeframe {text!r} (expected e.g. 30s, 15m, 1h)")
    seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2].lower()]
    if seconds > MAX_WINDOW_MINUTES * 60:
        raise Unsupported(
            f"timeframe {text!r}: sliding windows up to {MAX_WINDOW_MINUTES} minutes (the "
            "lookback of the alerts build, dbt var detection_lookback_minutes)"
        )
    minutes = max(1, -(-seconds // 60))
    note = "" if minutes * 60 == seconds else f" (timeframe {text} widened to {minutes} minutes)"
    return minutes, note


def threshold(
    operator: str, count: int, timeframe: str, group_by: list[str], distinct: str | None
) -> Threshold:
    """The windowed form of `count(distinct) by group_by <operator> count within timeframe`."""
    if operator in {">", "gt"}:
        at_least = count + 1
    elif operator in {">=", "gte"}:
        at_least = count
    else:
        raise Unsupported(
            f"count condition {operator!r} {count}: only 'more than' thresholds raise alerts "
            "(a count at most N is an absence, not a match)"
        )
    minutes, note = timeframe_minutes(timeframe)
    return Threshold(
        group_by=[scalar_sql(resolve(f)) for f in group_by],
        minutes=minutes,
        at_least=max(at_least, 1),
        distinct=scalar_sql(resolve(distinct)) if distinct else None,
        distinct_field=distinct,
        note=note,
    )


def scalar_sql(resolved: Field) -> str:
    """One value of a field, for grouping and counting (the first value of a JSON array)."""
    if resolved.column:
        return resolved.column
    path = "$" + "".join(f'."{key}"' for key in resolved.keys)
    return "{{ json_string(" + literal(resolved.document) + ", " + literal(path) + ") }}"


AGGREGATION = re.compile(
    r"^\s*count\(\s*(?P<distinct>[\w.]*)\s*\)\s*(?:by\s+(?P<group>[\w.]+(?:\s*,\s*[\w.]+)*))?"
    r"\s*(?P<op>>=|<=|>|<|==|=)\s*(?P<count>\d+)\s*$"
)


def split_aggregation(condition: str) -> tuple[str, re.Match[str] | None]:
    """`selection | count(x) by y > 5` → (`selection`, the parsed aggregation)."""
    if "|" not in condition:
        return condition, None
    base, aggregation = condition.split("|", 1)
    match = AGGREGATION.match(aggregation)
    if not match:
        raise Unsupported(f"aggregation {aggregation.strip()!r} (only count() thresholds)")
    return base.strip(), match
