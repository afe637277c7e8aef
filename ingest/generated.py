"""Files generated from the detection models (`ingest detections sync`), never edited by hand.

A detection is two files under `models/detections/<source>/`: its SQL and a YAML beside it
(meta and unit tests). From those files come:
  macros/detection_models.sql   the detection models `alerts` reads (it fails to compile
                                when a detection model is missing from the list)
  detections/COVERAGE.md and    the catalog by ATT&CK tactic and technique (coverage.py)
  models/detections/coverage.md
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ingest import coverage

DETECTIONS_DIR = Path("models") / "detections"
LIST_MACRO = Path("macros") / "detection_models.sql"
# A model name becomes a ref() in the generated macro: nothing but an identifier gets there.
MODEL_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def detection_models(project: Path, pending: Mapping[Path, str | None] | None = None) -> list[str]:
    """The detection models under models/detections/, after `pending` writes (content) and
    deletions (None) of project-relative paths."""
    files = {p.relative_to(project) for p in (project / DETECTIONS_DIR).rglob("*.sql")}
    for path, content in (pending or {}).items():
        if path.suffix == ".sql" and path.is_relative_to(DETECTIONS_DIR):
            (files.add if content is not None else files.discard)(path)
    names = sorted(path.stem for path in files)
    bad = [name for name in names if not MODEL_NAME.fullmatch(name)]
    if bad:
        raise ValueError(
            f"detection file names must be lower-case identifiers (a-z, 0-9, _): {bad}"
        )
    return names


def list_macro(models: Iterable[str]) -> str:
    names = "".join(f"\n        '{model}'," for model in models)
    return (
        "{#- Written by `ingest detections sync` from the files under models/detections/:\n"
        "    the detection models `alerts` reads. Do not edit. -#}\n"
        "{% macro detection_models() %}\n"
        f"    {{{{ return([{names}\n    ]) }}}}\n"
        "{% endmacro %}\n"
    )


def outputs(project: Path, pending: Mapping[Path, str | None] | None = None) -> dict[Path, str]:
    """Every generated file (project-relative) and its content."""
    generated = {LIST_MACRO: list_macro(detection_models(project, pending))}
    generated.update({p.relative_to(project): c for p, c in coverage.outputs(project).items()})
    return generated


def refresh(project: Path, check: bool = False) -> list[Path]:
    """The generated files that were out of date (rewritten unless `check`)."""
    stale = []
    for relative, content in outputs(project).items():
        path = project / relative
        if path.exists() and path.read_text() == content:
            continue
        stale.append(relative)
        if not check:
            write_atomic(path, content)
    return stale


def write_atomic(path: Path, content: str) -> None:
    """Readers (and a dbt parse) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(content)
    os.replace(temporary, path)
