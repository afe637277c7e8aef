"""Outside text in files dbt renders as Jinja.

dbt renders every string of a schema YAML (meta, unit-test rows) and every description and docs
block as a Jinja template: a Sigma rule titled `{{ env_var('AWS_SECRET_ACCESS_KEY') }}` would put
the secret in the catalog and the alerts, and `{% if %}` in a description breaks `dbt parse`.
Text we write there from outside (imported rules, detection titles) goes through one of these.
"""

from __future__ import annotations

import re
from typing import Any

# `{{`, `{%` and `{#` open Jinja; nothing else does.
_OPENER = re.compile(r"\{(?=[{%#])")


def inert(text: str) -> str:
    """Prose Jinja cannot open a tag in: a space after a `{` that would start one. Python
    readers of the YAML (the coverage catalog) and dbt then see the same text."""
    return _OPENER.sub("{ ", text)


def literal(text: str) -> str:
    """Text that renders to exactly itself: a `{` that would open a tag becomes an expression
    printing `{`. For values whose every character matters (the rows of a unit test)."""
    return _OPENER.sub("{{ '{' }}", text)


def deep_map(value: Any, text: Any) -> Any:
    """`value` with `text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {deep_map(k, text): deep_map(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_map(v, text) for v in value]
    return value
