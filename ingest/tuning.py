"""Detection tuning (the dbt vars `detections` and `severity_rules`), checked before a build.

`dbt build` refuses bad tuning too (macros/tuning.sql); this is the check an editor or CI runs
first, with the file's lines: the shape against trailhouse.schema.json (`$defs`
detection_tuning and severity_rules), then the names against the detection library: every id
a detection's, every parameter one that detection's SQL reads with `detection_param`, of the
kind of its default (a number, or a list of text). A misspelt parameter would otherwise tune
nothing, silently.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ingest import coverage
from ingest.config import SCHEMA_PATH, place, yaml_lines
from ingest.generated import DETECTIONS_DIR

# detection_param('name', default): the default's first character tells its kind
_PARAM = re.compile(r"detection_param\(\s*['\"]([a-z_][a-z0-9_]*)['\"]\s*,\s*(\[|-?[0-9])")
_KINDS = {"[": "list", "-": "number"}


def detection_params(project: Path) -> dict[str, dict[str, str]]:
    """detection_id → the parameters its SQL reads → "number" or "list"."""
    ids = {d.model: d.detection_id for d in coverage.load(project)}
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for sql in sorted((project / DETECTIONS_DIR).rglob("*.sql")):
        if sql.stem not in ids:
            continue
        for name, start in _PARAM.findall(sql.read_text()):
            params[ids[sql.stem]][name] = _KINDS.get(start, "number")
        params.setdefault(ids[sql.stem], {})
    return dict(params)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else "number"


def check(project: Path, overrides: str | None = None) -> list[str]:
    """Every problem of the tuning in the project's dbt_project.yml `vars`, with `overrides`
    (the YAML or JSON of dbt's `--vars`) applied on top, as "file:line: key: problem"."""
    path = project / "dbt_project.yml"
    text = path.read_text()
    lines = yaml_lines(yaml.compose(text))
    variables = (yaml.safe_load(text) or {}).get("vars") or {}
    tuning = {key: variables.get(key) for key in ("detections", "severity_rules")}
    given = {key: (path, lines, ("vars",)) for key in tuning}
    if overrides:
        try:
            extra = yaml.safe_load(overrides)
        except yaml.YAMLError as exc:
            return [f"--vars: not YAML or JSON: {exc}"]
        if not isinstance(extra, dict):
            return ["--vars: expected a mapping of variables"]
        for key in tuning:
            if key in extra:
                tuning[key] = extra[key]
                given[key] = (Path("--vars"), {}, ())
    tuning = {
        "detections": tuning["detections"] or {},
        "severity_rules": tuning["severity_rules"] or [],
    }

    def where(keys: tuple) -> str:
        file, found, prefix = given[keys[0]]
        if not found:
            return f"{file}: {'.'.join(str(k) for k in keys)}"
        return place(file, found, (*prefix, *keys))

    def message(error: jsonschema.ValidationError) -> str:
        if error.validator == "additionalProperties":
            return "unknown key: " + error.message.split("(")[-1].rstrip(")")
        if error.validator == "oneOf" and error.absolute_path[0] == "severity_rules":
            return "a rule needs exactly one of raise, lower, set"
        return error.message

    definitions = json.loads(SCHEMA_PATH.read_text())["$defs"]
    schema = {
        "$defs": definitions,
        "type": "object",
        "properties": {
            "detections": {"$ref": "#/$defs/detection_tuning"},
            "severity_rules": {"$ref": "#/$defs/severity_rules"},
        },
    }
    problems = [
        f"{where(tuple(error.absolute_path))}: {message(error)}"
        for error in jsonschema.Draft202012Validator(schema).iter_errors(tuning)
    ]
    if problems:
        return problems

    params = detection_params(project)
    read_anywhere: dict[str, set[str]] = defaultdict(set)
    for names in params.values():
        for name, kind in names.items():
            read_anywhere[name].add(kind)
    for detection_id, settings in tuning["detections"].items():
        keys = ("detections", detection_id)
        if detection_id != "*" and detection_id not in params:
            close = difflib.get_close_matches(detection_id, list(params), n=1)
            hint = f" (did you mean {close[0]}?)" if close else " (see detections/COVERAGE.md)"
            problems.append(f"{where(keys)}: no detection with this id{hint}")
            continue
        for name, value in ((settings or {}).get("params") or {}).items():
            kinds = (
                read_anywhere.get(name, set())
                if detection_id == "*"
                else ({params[detection_id][name]} if name in params[detection_id] else set())
            )
            if not kinds:
                known = sorted(read_anywhere if detection_id == "*" else params[detection_id])
                problems.append(
                    f"{where((*keys, 'params', name))}: no detection reads this parameter "
                    f"(it reads: {', '.join(known) or 'none'})"
                    if detection_id == "*"
                    else f"{where((*keys, 'params', name))}: {detection_id} does not read this "
                    f"parameter (it reads: {', '.join(known) or 'none'})"
                )
            elif _kind(value) not in kinds:
                problems.append(
                    f"{where((*keys, 'params', name))}: expected a {' or '.join(sorted(kinds))}"
                )
    return problems
