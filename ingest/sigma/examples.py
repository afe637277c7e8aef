"""Example events for a Sigma rule: a true positive built from its selection, and a true
negative built from its filter (or, without one, by breaking the selection).

The condition is put in disjunctive normal form (negations pushed to the fields); for each
conjunction, every field gets a value that satisfies its positive tests and none of its
negated ones. Every example is checked against the reference semantics before it is used, so
a generated test can only be wrong if the semantics are.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
)
from sigma.types import (
    SigmaBool,
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

from ingest.sigma.fields import BOOLEAN_COLUMNS, resolve, values_at
from ingest.sigma.semantics import leaf_matches, matches, regex_source, string_parts

ABSENT = object()
MAX_CONJUNCTIONS = 200
BENIGN = "trailhouse-benign-value"

Literal = tuple[ConditionFieldEqualsValueExpression, bool]


def base_record(event_id: str) -> dict[str, Any]:
    """A plausible CloudTrail record for fields the rule does not constrain."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLESIGMA00001",
            "arn": "arn:aws:iam::111122223333:user/sigma-example",
            "accountId": "111122223333",
            "userName": "sigma-example",
        },
        "eventTime": "2026-03-01T10:00:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "GetCallerIdentity",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.12",
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }


# -- normal form -------------------------------------------------------------------------------


def conjunctions(node: ConditionItem, negated: bool = False) -> Iterator[list[Literal]]:
    if isinstance(node, ConditionNOT):
        yield from conjunctions(node.args[0], not negated)
    elif isinstance(node, ConditionAND | ConditionOR):
        is_and = isinstance(node, ConditionAND) != negated
        if is_and:
            parts = [list(itertools.islice(conjunctions(a, negated), MAX_CONJUNCTIONS))
                     for a in node.args]  # fmt: skip
            for combination in itertools.product(*parts):
                yield [literal for part in combination for literal in part]
        else:
            for arg in node.args:
                yield from conjunctions(arg, negated)
    else:
        yield [(node, not negated)]


# -- values ------------------------------------------------------------------------------------


def regex_example(pattern: str) -> str | None:
    """A short string the regex finds (a generator for the common constructs)."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None

    def walk(items: Any) -> str:
        out = []
        for op, arg in items:
            if op is sre_constants.LITERAL:
                out.append(chr(arg))
            elif op is sre_constants.NOT_LITERAL:
                out.append("a" if chr(arg) != "a" else "b")
            elif op is sre_constants.ANY:
                out.append("a")
            elif op is sre_constants.IN:
                out.append(_class_example(arg))
            elif op is sre_constants.BRANCH:
                out.append(walk(arg[1][0]))
            elif op is sre_constants.SUBPATTERN:
                out.append(walk(arg[-1]))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, _high, body = arg
                out.append(walk(body) * low)
            elif op is sre_constants.CATEGORY:
                out.append(_category_example(arg))
            # anchors and look-arounds add no characters
        return "".join(out)

    example = walk(parsed)
    return example if re.search(pattern, example) else None


def _category_example(category: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name or "NOT_SPACE" in name:
        return "a"
    if "DIGIT" in name:
        return "7"
    if "SPACE" in name:
        return " "
    if "NOT_WORD" in name:
        return "-"
    return "a"


def _class_example(items: Any) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    allowed = set()
    for op, arg in items:
        if op is sre_constants.LITERAL:
            allowed.add(chr(arg))
        elif op is sre_constants.RANGE:
            allowed.update(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 50) + 1))
        elif op is sre_constants.CATEGORY:
            allowed.add(_category_example(arg))
    if negate:
        return next(c for c in string.ascii_letters + string.digits if c not in allowed)
    return sorted(allowed)[0] if allowed else "a"


def examples(value: Any, record: dict[str, Any]) -> list[Any]:
    """Values (in order of preference) that one Sigma value matches."""
    if isinstance(value, SigmaExpansion):
        return [e for v in value.values for e in examples(v, record)]
    if isinstance(value, SigmaString):
        parts = string_parts(value)
        tight = "".join(p if isinstance(p, str) else "" if p is SpecialChars.WILDCARD_MULTI
                        else "x" for p in parts)  # fmt: skip
        loose = "".join(p if isinstance(p, str) else "x" for p in parts)
        return [tight, loose]
    if isinstance(value, SigmaNumber):
        return [value.number, str(value.number)]
    if isinstance(value, SigmaBool):
        return [value.boolean]
    if isinstance(value, SigmaRegularExpression):
        example = regex_example(regex_source(value))
        return [example] if example is not None else []
    if isinstance(value, SigmaCIDRExpression):
        network = ipaddress.ip_network(value.cidr, strict=False)
        return [str(next(iter(network.hosts()), network.network_address))]
    if isinstance(value, SigmaCompareExpression):
        n = value.number.number
        return [n - 1, n + 1, n]
    if isinstance(value, SigmaFieldReference):
        others = values_at(record, value.field)
        if others and isinstance(others[0], str):
            return [others[0], f"{others[0]}-x", f"x-{others[0]}"]
        return []
    if isinstance(value, SigmaNull):
        return [ABSENT]
    if isinstance(value, SigmaExists):
        return ["present"] if value.exists else [ABSENT]
    return []


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    target = record
    for key in keys[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if value is ABSENT:
        target.pop(keys[-1], None)
    else:
        column = resolve(path).column
        if column in BOOLEAN_COLUMNS and isinstance(value, str):
            value = value.lower() == "true"
        target[keys[-1]] = value


def _choose(record: dict[str, Any], path: str, positive: list[Any], negative: list[Any]) -> bool:
    """Set `path` in `record` to a value passing every test in `positive` and none in
    `negative` (items of the condition tree); False if none of the candidates does."""
    if positive:
        singles = [examples(item.value, record) for item in positive]
        candidates = [c for options in singles for c in options]
        firsts = [options[0] for options in singles if options and isinstance(options[0], str)]
        if len(firsts) > 1:
            candidates.append("".join(firsts))
    elif not any(leaf_matches(i, record) for i in negative):
        return True  # the plausible value already there passes
    else:
        candidates = [ABSENT, BENIGN, "0"]
    for candidate in candidates:
        trial = copy.deepcopy(record)
        set_path(trial, path, candidate)
        if all(leaf_matches(i, trial) for i in positive) and not any(
            leaf_matches(i, trial) for i in negative
        ):
            set_path(record, path, candidate)
            return True
    return False


def satisfy(conjunction: list[Literal], record: dict[str, Any]) -> bool:
    by_field: dict[str, tuple[list[Any], list[Any]]] = {}
    for item, positive in conjunction:
        if item.field is None:
            return False
        by_field.setdefault(item.field, ([], []))[0 if positive else 1].append(item)
    # field references last: they copy another field's value
    order = sorted(
        by_field,
        key=lambda f: any(
            isinstance(i.value, SigmaFieldReference) for i in by_field[f][0] + by_field[f][1]
        ),
    )
    return all(_choose(record, f, *by_field[f]) for f in order)


@dataclass
class Examples:
    positive: dict[str, Any] | None
    negative: dict[str, Any] | None
    negative_reason: str = ""


def build(condition: ConditionItem) -> Examples:
    positive = None
    conjunction: list[Literal] = []
    for conjunction in itertools.islice(conjunctions(condition), MAX_CONJUNCTIONS):
        for start in (
            base_record("tp-1"),
            {"eventID": "tp-1", "eventTime": "2026-03-01T10:00:00Z"},
        ):
            record = copy.deepcopy(start)
            if satisfy(conjunction, record) and matches(condition, record):
                positive = record
                break
        if positive:
            break
    if positive is None:
        return Examples(None, None)
    negative, reason = _negative(condition, positive, conjunction)
    return Examples(positive, negative, reason)


def _negative(
    condition: ConditionItem, positive: dict[str, Any], conjunction: list[Literal]
) -> tuple[dict[str, Any] | None, str]:
    """The true positive with one change that makes the rule not match: preferably a filter
    (a negated test) made to match, else a selected field given another value."""
    trials: list[tuple[str, str, list[Any]]] = []
    for item, is_positive in conjunction:
        if not is_positive:
            trials.append(
                (f"filter on {item.field} matches", item.field, examples(item.value, positive))
            )
    for item, is_positive in conjunction:
        if is_positive:
            trials.append((f"{item.field} differs", item.field, [BENIGN, "0", ABSENT]))
    for reason, path, candidates in trials:
        for candidate in candidates:
            record = copy.deepcopy(positive)
            record["eventID"] = "tn-1"
            record["requestID"] = "req-tn-1"
            set_path(record, path, candidate)
            if not matches(condition, record):
                return record, reason
    return None, ""
