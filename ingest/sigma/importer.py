"""Import Sigma rule files as detection models under `models/detections/sigma/`.

Each rule becomes `<model>.sql` and `<model>.yml` (meta, provenance and two generated unit
tests); `macros/detection_models.sql` lists them with the native ones for `alerts`.
Everything is compiled in memory first and a rule that fails writes nothing; files are
replaced atomically and only when their content changes, so re-importing is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from ingest import generated, jinja_text
from ingest.sigma import compiler, examples
from ingest.sigma.compiler import Compiled, Threshold, literal
from ingest.sigma.fields import event_row
from ingest.sigma.semantics import Unsupported, matches

SIGMA_DIR = Path("models") / "detections" / "sigma"


@dataclass
class Outcome:
    """One rule: compiled into `files` (path → content), or `error` saying why not."""

    source: Path
    title: str
    rule_id: str | None = None
    model: str | None = None
    files: dict[Path, str] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    status: str = ""


# -- reading ----------------------------------------------------------------------------------


def rule_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"}))
        else:
            found.append(path)
    return found


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _is_cloudtrail(document: dict[str, Any]) -> bool:
    source = document.get("logsource") or {}
    return source.get("product") == "aws" and source.get("service") == "cloudtrail"


def read(paths: Iterable[Path]) -> list[Outcome]:
    """Compile every rule of every file; correlations may name rules of any file given."""
    documents: list[tuple[Path, int, dict[str, Any]]] = []
    outcomes: list[Outcome] = []
    for path in rule_files(paths):
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except (OSError, yaml.YAMLError) as exc:
            outcomes.append(Outcome(path, path.name, error=f"unreadable: {exc}"))
            continue
        documents.extend((path, i, d) for i, d in enumerate(loaded) if isinstance(d, dict))
    by_reference = {
        key: document
        for _, _, document in documents
        for key in (document.get("name"), document.get("id"))
        if key
    }
    referenced = {
        ref
        for _, _, document in documents
        if "correlation" in document
        for ref in (document["correlation"].get("rules") or [])
    }
    multi = {path for path, index, _ in documents if index > 0}
    for path, index, document in documents:
        title = str(document.get("title") or path.name)
        if "correlation" not in document:
            is_part = document.get("name") in referenced or document.get("id") in referenced
            if is_part and not document.get("generate"):
                continue  # a building block of a correlation, not a detection of its own
            if not _is_cloudtrail(document):
                outcomes.append(Outcome(path, title, document.get("id"),
                                        error="not a CloudTrail rule (logsource product: aws, "
                                        "service: cloudtrail)"))  # fmt: skip
                continue
        name = slug(f"{path.stem}_{document.get('name') or index}" if path in multi else path.stem)
        outcomes.append(compile_document(path, f"sigma_{name}", document, by_reference))
    return outcomes


# -- compiling ---------------------------------------------------------------------------------


def _parse(document: dict[str, Any]) -> tuple[SigmaRule, Threshold | None]:
    """The pySigma rule, and the windowed threshold of a legacy `| count()` condition."""
    detection = dict(document.get("detection") or {})
    timeframe = detection.pop("timeframe", None) or document.get("timeframe")
    conditions = detection.get("condition")
    conditions = conditions if isinstance(conditions, list) else [conditions]
    if len(conditions) != 1:
        raise Unsupported("several conditions in one rule (split it into one rule each)")
    base, aggregation = compiler.split_aggregation(str(conditions[0]))
    detection["condition"] = base
    rule = SigmaRule.from_dict({**document, "detection": detection})
    if aggregation is None:
        return rule, None
    if timeframe is None:
        raise Unsupported("count() without a timeframe")
    group = [g.strip() for g in (aggregation["group"] or "").split(",") if g.strip()]
    return rule, compiler.threshold(
        aggregation["op"],
        int(aggregation["count"]),
        timeframe,
        group,
        aggregation["distinct"] or None,
    )


def _correlation(
    document: dict[str, Any], by_reference: dict[str, dict[str, Any]]
) -> tuple[SigmaRule, Threshold, list[SigmaRule]]:
    correlation = document["correlation"]
    kind = correlation.get("type")
    if kind not in {"event_count", "value_count"}:
        raise Unsupported(f"correlation type {kind!r} (event_count and value_count only)")
    bases = []
    for reference in correlation.get("rules") or []:
        if reference not in by_reference:
            raise Unsupported(f"correlation names rule {reference!r}, not among the files given")
        base, extra = _parse(by_reference[reference])
        if extra is not None or not _is_cloudtrail(by_reference[reference]):
            raise Unsupported(f"correlated rule {reference!r} must be a plain CloudTrail rule")
        bases.append(base)
    condition = correlation.get("condition") or {}
    operators = [k for k in condition if k != "field"]
    if len(operators) != 1:
        raise Unsupported(f"correlation condition {condition!r} (one of gt, gte)")
    group_by = correlation.get("group-by") or []
    group_by = [group_by] if isinstance(group_by, str) else list(group_by)
    timespan = correlation.get("timespan") or correlation.get("timeframe")
    distinct = condition.get("field") if kind == "value_count" else None
    threshold = compiler.threshold(
        operators[0], int(condition[operators[0]]), str(timespan), group_by, distinct
    )
    rule = SigmaRule.from_dict({
        **{k: v for k, v in document.items() if k != "correlation"},
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {"never": {"eventID": "-"}, "condition": "never"},
    })  # fmt: skip
    return rule, threshold, bases


def compile_document(
    path: Path, model: str, document: dict[str, Any], by_reference: dict[str, dict[str, Any]]
) -> Outcome:
    outcome = Outcome(path, str(document.get("title") or path.name), document.get("id"), model)
    try:
        if "correlation" in document:
            rule, threshold, bases = _correlation(document, by_reference)
        else:
            rule, threshold = _parse(document)
            bases = [rule]
        trees = [base.detection.parsed_condition[0].parse() for base in bases]
        where = (
            compiler.where(trees[0])
            if len(trees) == 1
            else "\n        or ".join(
                f"(\n            {compiler.where(t, 12)}\n        )" for t in trees
            )
        )
        compiled = Compiled(where, threshold)
        outcome.files = {
            SIGMA_DIR / f"{model}.sql": render_sql(rule, path, compiled),
            SIGMA_DIR / f"{model}.yml": render_yml(rule, path, model, compiled, trees, outcome),
        }
    except (Unsupported, SigmaError, ValueError, KeyError, TypeError) as exc:
        kind = "unsupported" if isinstance(exc, Unsupported) else type(exc).__name__
        outcome.error = f"{kind}: {exc}"
        outcome.files = {}
    return outcome


def _comment(text: str) -> str:
    """Text safe inside a SQL comment of a Jinja template."""
    return re.sub(r"[{}#\n\r]", " ", text)


def render_sql(rule: SigmaRule, path: Path, compiled: Compiled) -> str:
    header = (
        f"-- Sigma: {_comment(rule.title)}\n"
        f"-- rule {rule.id or '(no id)'} from {_comment(path.name)}, imported by `ingest sigma "
        "import`: edit the rule and re-import, not this file\n"
        "-- meta (id, severity, ATT&CK, provenance) and generated unit tests: the .yml beside it\n"
    )
    events = "\n\nevents as (\n\n    select * from {{ detection_events() }}\n\n),\n\n"
    if compiled.threshold is None:
        body = f"final as (\n\n    select * from events\n    where\n        {compiled.where}\n\n)\n"
    else:
        t = compiled.threshold
        args = [literal("matching"), "[" + ", ".join(literal(g) for g in t.group_by) + "]",
                f"minutes={t.minutes}", f"at_least={t.at_least}"]  # fmt: skip
        if t.distinct:
            args.append(f"distinct={literal(t.distinct)}")
        body = (
            "matching as (\n\n    select * from events\n    where\n        "
            f"{compiled.where}\n\n),\n\n"
            f"final as (\n\n    {{{{ threshold_matches({', '.join(args)}) }}}}\n\n)\n"
        )
    return header + "\nwith" + events + body + "\nselect * from final\n"


def _tags(rule: SigmaRule) -> tuple[list[str], list[str]]:
    tactics, techniques = [], []
    for tag in rule.tags:
        if tag.namespace != "attack":
            continue
        if re.fullmatch(r"t\d{4}(\.\d{3})?", tag.name):
            techniques.append(tag.name.upper())
        elif not re.fullmatch(r"[gs]\d{4}", tag.name):
            tactics.append(tag.name.replace("_", "-"))
    return tactics, techniques


def _test_row(record: dict[str, Any], offset: int = 0) -> dict[str, Any]:
    row = event_row(record)
    row["event_time"] = f"2026-03-01 10:00:{offset:02d}+00"
    row["event_date"] = "2026-03-01"
    return row


def render_yml(
    rule: SigmaRule,
    path: Path,
    model: str,
    compiled: Compiled,
    trees: list[Any],
    outcome: Outcome,
) -> str:
    tactics, techniques = _tags(rule)
    title = re.sub(r"[\[\]{}]", "", rule.title)
    description = (rule.description or rule.title).strip()
    threshold = compiled.threshold
    if threshold and threshold.note:
        description += threshold.note
    meta = {
        "detection_id": f"sigma-{rule.id or slug(rule.title)}",
        "title": rule.title,
        "description": description,
        "severity": compiler.SEVERITY.get(rule.level.name.lower() if rule.level else "", "medium"),
        "mitre_tactics": tactics,
        "mitre_techniques": techniques,
        "false_positives": [str(f) for f in rule.falsepositives or []],
        "references": [str(r) for r in rule.references or []],
        "dedup_window": dedup_window(threshold.minutes) if threshold else 60,
        "dedup_key": _dedup_key(threshold),
        "summary": f"{title}: {{event_name}} by {{principal_name}}[ from {{source_ip_address}}]",
        "sigma": {
            "rule_id": str(rule.id) if rule.id else None,
            "file": path.name,
            "status": rule.status.name.lower() if rule.status else None,
            "author": rule.author,
            "license": rule.license,
            "date": str(rule.date) if rule.date else None,
            "modified": str(rule.modified) if rule.modified else None,
        },
    }
    # dbt renders all of it as Jinja: the rule's prose is made inert, test values exact
    document: dict[str, Any] = {
        "version": 2,
        "models": [{
            "name": model,
            "description": jinja_text.inert(description),
            "config": {"meta": jinja_text.deep_map(meta, jinja_text.inert)},
        }],
    }  # fmt: skip
    tests = _unit_tests(model, trees, threshold, outcome)
    if tests:
        document["unit_tests"] = jinja_text.deep_map(tests, jinja_text.literal)
    return (
        "# Generated by `ingest sigma import` from a Sigma rule; re-import to change it.\n"
        + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    )


def _dedup_key(threshold: Threshold | None) -> list[str]:
    if threshold and all(re.fullmatch(r"\w+", g) for g in threshold.group_by):
        return threshold.group_by or ["recipient_account_id"]
    return ["recipient_account_id", "principal_arn"]


def _unit_tests(
    model: str, trees: list[Any], threshold: Threshold | None, outcome: Outcome
) -> list[dict[str, Any]]:
    built = next((b for b in map(examples.build, trees) if b.positive), None)
    if built is None:
        outcome.warnings.append("no true-positive example could be generated")
        return []
    copies = threshold.at_least if threshold else 1
    positives = [_copy(built.positive, i, threshold) for i in range(copies)]
    if not all(any(matches(tree, r) for tree in trees) for r in positives):
        outcome.warnings.append(f"no {copies} distinct matching events could be generated")
        return []
    tests = [{
        "name": f"{model}__fires",
        "model": model,
        "description": "Generated true positive: satisfies the rule's selection.",
        "given": [{"input": "ref('cloudtrail_events')",
                   "rows": [_test_row(r, i) for i, r in enumerate(positives)]}],
        "expect": {"rows": [{"event_id": r["eventID"]} for r in positives]},
    }]  # fmt: skip
    if threshold:
        negatives = positives[:-1]
        reason = f"one event short of the threshold ({threshold.at_least})"
    elif built.negative:
        negatives, reason = [built.negative], built.negative_reason
    else:
        outcome.warnings.append("no true-negative example could be generated")
        return tests
    tests.append({
        "name": f"{model}__ignores",
        "model": model,
        "description": f"Generated true negative: {reason}.",
        "given": [{"input": "ref('cloudtrail_events')",
                   "rows": [_test_row(r, i) for i, r in enumerate(negatives)]}],
        "expect": {"rows": []},
    })  # fmt: skip
    return tests


def dedup_window(minutes: int) -> int:
    """Alerts group a rule's matches in windows that tile the day: the first at least as long
    as the rule's sliding window."""
    return next(d for d in range(minutes, 1441) if 1440 % d == 0)


def _copy(record: dict[str, Any], index: int, threshold: Threshold | None) -> dict[str, Any]:
    copy = {**record, "eventID": f"tp-{index + 1}", "requestID": f"req-tp-{index + 1}"}
    if threshold and threshold.distinct_field and index:
        examples.set_path(copy, threshold.distinct_field, f"distinct-value-{index}")
    return copy


# -- writing -----------------------------------------------------------------------------------


def existing_models(project: Path) -> dict[str, str | None]:
    """Imported models on disk → their Sigma rule id."""
    found: dict[str, str | None] = {}
    for path in sorted((project / SIGMA_DIR).glob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for model in document.get("models", []):
            sigma = ((model.get("config") or {}).get("meta") or {}).get("sigma") or {}
            found[model["name"]] = sigma.get("rule_id")
    return found


def plan(project: Path, outcomes: list[Outcome], prune: bool) -> dict[Path, str | None]:
    """Files to write (content) or delete (None) so the project matches the compiled rules."""
    changes: dict[Path, str | None] = {}
    on_disk = existing_models(project)
    compiled = {o.model: o for o in outcomes if o.model and not o.error}
    compiled_ids = {o.rule_id for o in compiled.values() if o.rule_id}
    for outcome in compiled.values():
        current = {p: _read(project / p) for p in outcome.files}
        differing = {p: c for p, c in outcome.files.items() if current[p] != c}
        new = any(text is None for text in current.values())
        outcome.status = "created" if new else "updated" if differing else "unchanged"
        changes.update(differing)
    removed = {
        name for name, rule_id in on_disk.items()
        if name not in compiled and (prune or (rule_id and rule_id in compiled_ids))
    }  # fmt: skip
    for name in removed:
        changes[SIGMA_DIR / f"{name}.sql"] = None
        changes[SIGMA_DIR / f"{name}.yml"] = None
    macro = generated.list_macro(generated.detection_models(project, changes))
    if _read(project / generated.LIST_MACRO) != macro:
        changes[generated.LIST_MACRO] = macro
    return changes


def _read(path: Path) -> str | None:
    """A file's text, or None when it does not exist."""
    return path.read_text() if path.exists() else None


def apply(project: Path, changes: dict[Path, str | None]) -> None:
    # yml before sql: a model never exists without its meta; the list macro last
    order = sorted(changes, key=lambda p: (p == generated.LIST_MACRO, p.suffix == ".sql", str(p)))
    for relative in order:
        content = changes[relative]
        target = project / relative
        if content is None:
            target.unlink(missing_ok=True)
        else:
            generated.write_atomic(target, content)
