"""Collection `filters:`, held to a small grammar.

A filter is a condition an operator writes in trailhouse.yml; `ingest pull` records it in the
lake (`_state/collections/filters.parquet`) and the dbt build puts it in the SQL that decides
what is stored. Whoever can write the lake can write that file, so a filter is never taken as
SQL text: it is parsed (sqlglot, DuckDB's dialect) into a grammar of unqualified columns,
literals, comparisons, boolean operators, `like`/`ilike`/`in`/`between`/`is null` and an
allow-list of pure functions — no comments, subqueries, table functions or statements — and
stored in its canonical form. The build (the dbt plugin's `trailhouse_filter_canonical`)
refuses a recorded filter that is not already canonical.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

# Pure, deterministic functions a filter may call: sqlglot's class for each, or the name of one
# sqlglot does not know (those parse as Anonymous).
_FUNCTIONS = (
    exp.Coalesce, exp.Contains, exp.EndsWith, exp.Length, exp.Lower, exp.RegexpLike,
    exp.StartsWith, exp.StrPosition, exp.Trim, exp.Upper,
)  # fmt: skip
_ANONYMOUS = frozenset({"prefix", "suffix"})
FUNCTIONS = sorted(
    {"coalesce", "contains", "ends_with", "length", "lower", "regexp_matches", "starts_with",
     "strpos", "trim", "upper"} | _ANONYMOUS
)  # fmt: skip

_NODES = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like, exp.ILike, exp.In, exp.Between, exp.Is,
    exp.Escape, exp.Tuple, *_FUNCTIONS,
)  # fmt: skip


class FilterError(ValueError):
    """Why a condition is not a filter."""


def canonical(condition: str) -> str:
    """The canonical text of `condition`, or FilterError saying what is not allowed."""
    try:
        statements = sqlglot.parse(condition, read="duckdb")
    except ParseError as exc:
        raise FilterError(f"not a SQL condition: {_first_line(exc)}") from None
    if len(statements) != 1 or statements[0] is None:
        raise FilterError("one condition, not several statements")
    (tree,) = statements
    for node in tree.walk():
        _check(node)
    text = tree.sql(dialect="duckdb", comments=False)
    if sqlglot.parse_one(text, read="duckdb").sql(dialect="duckdb", comments=False) != text:
        raise FilterError("the condition does not read back the same way")
    return text


def canonical_or_none(condition: str | None) -> str | None:
    """For the dbt plugin: the canonical text, or NULL for anything that is not a filter."""
    try:
        return canonical(condition) if condition is not None else None
    except FilterError:
        return None


def _check(node: exp.Expression) -> None:
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise FilterError(f"a column, not {node.sql(dialect='duckdb')!r}")
    elif isinstance(node, exp.Anonymous):
        if str(node.this).lower() not in _ANONYMOUS:
            raise FilterError(f"function {node.this!r} is not allowed in a filter")
    elif isinstance(node, _NODES):
        return
    elif isinstance(node, exp.Func):
        raise FilterError(f"function {node.sql_name().lower()!r} is not allowed in a filter")
    else:
        raise FilterError(
            f"{node.key!r} is not allowed in a filter (columns, literals, comparisons, "
            "and/or/not, like, in, between, is null and " + ", ".join(FUNCTIONS) + ")"
        )


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else "parse error"
