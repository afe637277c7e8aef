"""`trailhouse.yml`: connections, collections and custom formats, written down once.

Checked in three passes, each error naming the file, the line and the key:
1. secrets: a key that holds a secret (secret, password, token, access key) is refused
   outright: name a profile or a role, or reference the environment as `${NAME}`;
2. shape: `trailhouse.schema.json` (unknown keys, wrong types, a bucket missing, ...);
3. meaning: connections that exist, formats that exist, filters in the filter grammar, and
   `${NAME}` references that the environment defines.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ingest.filters import FilterError, canonical
from ingest.sources.custom_format import check_format

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "trailhouse.schema.json"
_SECRET_KEY = re.compile(r"secret|password|passwd|token|access_key|private_key", re.IGNORECASE)
_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class ConfigError(ValueError):
    """Every problem found, one per line, each with its place, in the file's order."""

    def __init__(self, problems: list[str]) -> None:
        def line(problem: str) -> int:
            match = re.match(r"[^:]+:(\d+):", problem)
            return int(match.group(1)) if match else 0

        self.problems = sorted(problems, key=line)
        super().__init__("\n".join(self.problems))


@dataclass
class Config:
    path: Path
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    formats: dict[str, dict[str, Any]] = field(default_factory=dict)
    watch: dict[str, Any] = field(default_factory=dict)
    destinations: list[dict[str, Any]] = field(default_factory=list)  # see ingest.destinations
    # built from command-line flags: values are taken as written, no `${NAME}` is resolved
    literal: bool = False


def default_path(explicit: Path | None = None) -> Path:
    return explicit or Path(os.environ.get("TRAILHOUSE_CONFIG", "trailhouse.yml"))


def yaml_lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """JSON path (tuple of keys and indexes) → 1-based line, for every node of the document."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[(*path, key.value)] = key.start_mark.line + 1
            found.update(
                {
                    p: n
                    for p, n in yaml_lines(value, (*path, key.value)).items()
                    if p != (*path, key.value)
                }
            )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(yaml_lines(item, (*path, index)))
    return found


def place(path: Path, lines: dict[tuple, int], keys: tuple) -> str:
    while keys and keys not in lines:
        keys = keys[:-1]
    dotted = ".".join(str(k) for k in keys) or "(top)"
    return f"{path.name}:{lines.get(keys, 1)}: {dotted}"


def _walk(value: Any, keys: tuple = ()):
    yield keys, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, (*keys, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, (*keys, index))


def load(path: Path, environ: dict[str, str] | None = None) -> Config:
    """The config at `path`, checked; raises ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    if not path.is_file():
        raise ConfigError([f"{path}: no such file (set --config or TRAILHOUSE_CONFIG)"])
    text = path.read_text()
    try:
        node = yaml.compose(text)
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{path.name}{line}: not valid YAML: {exc}"]) from None
    lines = yaml_lines(node) if node is not None else {}
    problems: list[str] = []

    for keys, _value in _walk(document):
        if keys and isinstance(keys[-1], str) and _SECRET_KEY.search(keys[-1]):
            problems.append(
                f"{place(path, lines, keys)}: secrets do not go in this file; name an AWS "
                "profile or role_arn, or leave credentials to the environment"
            )
    if problems:
        raise ConfigError(problems)

    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(document):
        keys = tuple(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            message = "unknown key: " + message.split("(")[-1].rstrip(")")
        problems.append(f"{place(path, lines, keys)}: {message}")
    if problems:
        raise ConfigError(problems)

    config = Config(
        path,
        document.get("connections") or {},
        document.get("collections") or {},
        document.get("formats") or {},
        document.get("watch") or {},
        document.get("destinations") or [],
    )
    for name, spec in config.formats.items():
        problems += check_format(name, spec, place(path, lines, ("formats", name)))
    for keys, value in _walk(document):
        if isinstance(value, str):
            for name in _ENV.findall(value):
                if name not in environ:
                    problems.append(f"{place(path, lines, keys)}: ${{{name}}} is not set")
    webhook = config.watch.get("webhook")
    if webhook is not None and not _ENV.fullmatch(webhook):
        problems.append(
            f"{place(path, lines, ('watch', 'webhook'))}: a webhook URL is a secret: write "
            "${NAME} here and set NAME in the environment"
        )
    from ingest.destinations import check as check_destinations

    problems += check_destinations(
        config.destinations, config.watch, environ, lambda keys: place(path, lines, keys)
    )
    for name, collection in config.collections.items():
        where = ("collections", name)
        reference = collection.get("connection")
        if reference and reference not in config.connections:
            problems.append(
                f"{place(path, lines, (*where, 'connection'))}: no connection named {reference!r}"
            )
        if collection["type"] == "custom" and collection["format"] not in config.formats:
            at = place(path, lines, (*where, "format"))
            problems.append(f"{at}: no format named {collection['format']!r} under formats:")
        for index, condition in enumerate(collection.get("filters") or []):
            error = filter_error(condition)
            if error:
                problems.append(f"{place(path, lines, (*where, 'filters', index))}: {error}")
    if problems:
        raise ConfigError(problems)
    return config


def filter_error(condition: str) -> str | None:
    """Why `condition` is not a filter (see ingest.filters), or None."""
    try:
        canonical(condition)
    except FilterError as exc:
        return str(exc)
    return None


def resolve(value: Any, environ: dict[str, str] | None = None) -> Any:
    """`${NAME}` references replaced by the environment's values."""
    environ = os.environ if environ is None else environ
    if isinstance(value, str):
        return _ENV.sub(lambda m: environ[m.group(1)], value)
    if isinstance(value, dict):
        return {k: resolve(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, environ) for v in value]
    return value


def check_profiles(config: Config, available: list[str]) -> list[str]:
    """Connections naming a profile this machine does not have."""
    return [
        f"{config.path.name}: connections.{name}.profile: no AWS profile {spec['profile']!r} "
        f"(known: {', '.join(available) or 'none'})"
        for name, spec in config.connections.items()
        if spec.get("profile") and resolve(spec["profile"]) not in available
    ]


def redacted(value: Any, environ: dict[str, str] | None = None) -> Any:
    """`resolve`, except that a reference to a variable whose name looks secret stays
    `${NAME}` (an endpoint or queue URL resolves; a token never prints)."""
    environ = os.environ if environ is None else environ
    if isinstance(value, str):
        return _ENV.sub(
            lambda m: m.group(0) if _SECRET_KEY.search(m.group(1)) else environ[m.group(1)], value
        )
    if isinstance(value, dict):
        return {k: redacted(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v, environ) for v in value]
    return value
