"""What a Sigma condition means, evaluated in Python on a CloudTrail-shaped record.

This is the reference the generated SQL is tested against (the rule's example events are
chosen with it, and property tests compare it with DuckDB). Meaning, as in Sigma's spec and
its main backends:

- strings match the whole value, case-insensitively (`cased`: exactly); `*` is any run and
  `?` one character; `contains`/`startswith`/`endswith` are wildcards pySigma adds;
- a field with several values (a JSON array anywhere on its path) matches when any value does;
- `null` matches a missing or null field, `exists` a present non-null one;
- `re` searches (unanchored; flags `i`, `m`, `s`); `cidr` contains the IP; `lt`/`gte`/…
  compare numbers; `fieldref` compares with another field of the same record;
- a missing field matches nothing, so `not selection` holds when the field is missing.
"""

from __future__ import annotations

import ipaddress
import re
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
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from ingest.sigma.fields import as_text, values_at


class Unsupported(Exception):
    """A part of a rule this compiler does not translate; the message says which and why."""


KEYWORDS = "keyword search without a field (name the field to search)"


def string_parts(value: SigmaString) -> list[str | SpecialChars]:
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, str | SpecialChars):
            parts.append(part)
        else:
            raise Unsupported(f"placeholder {part!r} (placeholders need a processing pipeline)")
    return parts


def wildcard_regex(value: SigmaString) -> re.Pattern[str]:
    pieces = []
    for part in string_parts(value):
        if part is SpecialChars.WILDCARD_MULTI:
            pieces.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            pieces.append(".")
        else:
            pieces.append(re.escape(part))
    flags = re.DOTALL if isinstance(value, SigmaCasedString) else re.DOTALL | re.IGNORECASE
    return re.compile("".join(pieces), flags)


REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def regex_source(value: SigmaRegularExpression) -> str:
    """The pattern with its flags inline (`(?i)…`), as RE2 and Python both read it."""
    flags = "".join(sorted(REGEX_FLAGS[f] for f in value.flags))
    return (f"(?{flags})" if flags else "") + value.regexp.original


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def value_matches(value: Any, text: str | None, record: dict[str, Any]) -> bool:
    """Does one (non-null) field value, spelled `text`, match the Sigma value `value`?"""
    if text is None:
        return False
    if isinstance(value, SigmaString):
        return wildcard_regex(value).fullmatch(text) is not None
    if isinstance(value, SigmaNumber | SigmaBool):
        expected = as_text(value.boolean if isinstance(value, SigmaBool) else value.number)
        return text.lower() == str(expected).lower()
    if isinstance(value, SigmaRegularExpression):
        return re.search(regex_source(value), text) is not None
    if isinstance(value, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(text) in ipaddress.ip_network(value.cidr, strict=False)
        except ValueError:
            return False
    if isinstance(value, SigmaCompareExpression):
        number = _number(text)
        if number is None:
            return False
        limit = float(value.number.number)
        op = value.op
        return {
            SigmaCompareExpression.CompareOperators.LT: number < limit,
            SigmaCompareExpression.CompareOperators.LTE: number <= limit,
            SigmaCompareExpression.CompareOperators.GT: number > limit,
            SigmaCompareExpression.CompareOperators.GTE: number >= limit,
        }[op]
    if isinstance(value, SigmaFieldReference):
        for other in field_texts(record, value.field):
            a, b = text.lower(), other.lower()
            if (value.starts_with and a.startswith(b)) or (value.ends_with and a.endswith(b)):
                return True
            if not value.starts_with and not value.ends_with and a == b:
                return True
        return False
    raise Unsupported(f"value type {type(value).__name__}")


def field_texts(record: dict[str, Any], path: str) -> list[str]:
    return [t for t in (as_text(v) for v in values_at(record, path)) if t is not None]


def leaf_matches(item: ConditionFieldEqualsValueExpression, record: dict[str, Any]) -> bool:
    value = item.value
    if isinstance(value, SigmaExpansion):
        return any(
            leaf_matches(ConditionFieldEqualsValueExpression(item.field, v), record)
            for v in value.values
        )
    texts = field_texts(record, item.field)
    if isinstance(value, SigmaNull):
        return not texts
    if isinstance(value, SigmaExists):
        return bool(texts) == value.exists
    return any(value_matches(value, text, record) for text in texts)


def matches(condition: ConditionItem, record: dict[str, Any]) -> bool:
    if isinstance(condition, ConditionAND):
        return all(matches(arg, record) for arg in condition.args)
    if isinstance(condition, ConditionOR):
        return any(matches(arg, record) for arg in condition.args)
    if isinstance(condition, ConditionNOT):
        return not matches(condition.args[0], record)
    if isinstance(condition, ConditionFieldEqualsValueExpression):
        return leaf_matches(condition, record)
    if isinstance(condition, ConditionValueExpression):
        raise Unsupported(KEYWORDS)
    raise Unsupported(f"condition element {type(condition).__name__}")
