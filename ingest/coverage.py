"""The detection catalog: detections by MITRE ATT&CK tactic and technique, with test counts.

Read from the detections' YAML (meta and unit tests) and the raw samples beside the tests, so it
needs neither dbt nor a database. Written twice: `detections/COVERAGE.md` for readers of the
repository, and a dbt docs block (`models/detections/coverage.md`) that the `alerts` model's
documentation includes; `ingest detections coverage` prints it as a checklist.

What a detection's tests must show: that it fires (a unit test expecting rows), that it stays
quiet (one expecting none), an edge case (any further test: an AWS service, an assumed role, a
failed call, a near-miss value), and, for CloudTrail, raw records as CloudTrail delivers them
(`tests/detections/<model>.json`, run through the real ingest and staging).
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml

from ingest import jinja_text

TACTIC_ORDER = [
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery",
    "lateral-movement", "collection", "exfiltration", "impact",
]  # fmt: skip


SAMPLES_DIR = Path("tests") / "detections"
TEST_KINDS = ("fires", "ignores", "edge case", "raw sample")


@dataclass(frozen=True)
class UnitTest:
    name: str
    expects_alerts: bool


@dataclass
class Detection:
    model: str
    detection_id: str
    title: str
    severity: str
    tactics: list[str]
    techniques: list[str]
    source: str
    # CloudTrail data-event resource types it reads: blind on a trail that does not log them
    data_events: list[str] = field(default_factory=list)
    unit_tests: list[UnitTest] = field(default_factory=list)
    raw_sample: bool = False

    def missing(self) -> list[str]:
        """The kinds of test (TEST_KINDS) this detection lacks. The edge case is a test beyond
        one that fires and one that ignores; raw samples are asked of CloudTrail detections."""
        fires = [t for t in self.unit_tests if t.expects_alerts]
        ignores = [t for t in self.unit_tests if not t.expects_alerts]
        gaps = []
        if not fires:
            gaps.append("fires")
        if not ignores:
            gaps.append("ignores")
        if len(self.unit_tests) < 3 or not (fires and ignores):
            gaps.append("edge case")
        if self.source == "cloudtrail" and not self.raw_sample:
            gaps.append("raw sample")
        return gaps


def load(project: Path) -> list[Detection]:
    detections: dict[str, Detection] = {}
    tests: dict[str, list[UnitTest]] = defaultdict(list)
    for path in sorted((project / "models" / "detections").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for model in document.get("models", []):
            meta = (model.get("config") or {}).get("meta") or {}
            if "detection_id" not in meta:
                continue
            detections[model["name"]] = Detection(
                model=model["name"],
                detection_id=meta["detection_id"],
                title=meta["title"],
                severity=meta["severity"],
                tactics=list(meta["mitre_tactics"]),
                techniques=list(meta["mitre_techniques"]),
                source=path.parent.name,
                data_events=list(meta.get("data_events") or []),
                raw_sample=(project / SAMPLES_DIR / f"{model['name']}.json").is_file(),
            )
        for test in document.get("unit_tests", []):
            expected = (test.get("expect") or {}).get("rows") or []
            tests[test["model"]].append(UnitTest(test["name"], bool(expected)))
    for name, unit_tests in tests.items():
        if name in detections:
            detections[name].unit_tests = unit_tests
    return sorted(detections.values(), key=lambda d: d.detection_id)


def _tactic_key(tactic: str) -> tuple[int, str]:
    return (TACTIC_ORDER.index(tactic) if tactic in TACTIC_ORDER else len(TACTIC_ORDER), tactic)


def totals(detections: list[Detection]) -> dict[str, int]:
    """The headline counts: detections per source, techniques, unit tests, raw samples and the
    detections lacking a kind of test."""
    counts = {
        "detections": len(detections),
        "cloudtrail detections": sum(d.source == "cloudtrail" for d in detections),
        "web detections": sum(d.source == "web" for d in detections),
        "ATT&CK techniques": len({t for d in detections for t in d.techniques}),
        "unit tests": sum(len(d.unit_tests) for d in detections),
        "raw samples": sum(d.raw_sample for d in detections),
        "needing data events": sum(bool(d.data_events) for d in detections),
    }
    missing = [d.missing() for d in detections]
    for kind in TEST_KINDS:
        counts[f"lacking {kind}"] = sum(kind in gaps for gaps in missing)
    return counts


def _md(text: object) -> str:
    """A table cell of the catalog: the docs block is Jinja and dbt docs HTML, and a title may
    come from an imported rule."""
    return html.escape(jinja_text.inert(str(text)), quote=False).replace("|", "\\|")


def _mds(texts: list[str]) -> str:
    return ", ".join(map(_md, texts))


def render(detections: list[Detection]) -> str:
    counts = totals(detections)
    lines = [
        "# Detection coverage",
        "",
        f"{counts['detections']} detections ({counts['cloudtrail detections']} CloudTrail, "
        f"{counts['web detections']} web) · {counts['ATT&CK techniques']} ATT&CK techniques · "
        f"{counts['unit tests']} unit tests · {counts['raw samples']} with raw CloudTrail "
        "samples. Generated by `ingest detections sync` from the detections' YAML; do not "
        "edit by hand.",
        "",
        "## By tactic",
        "",
        "| tactic | detections |",
        "|---|---|",
    ]
    by_tactic: dict[str, list[Detection]] = defaultdict(list)
    for detection in detections:
        for tactic in detection.tactics:
            by_tactic[tactic].append(detection)
    for tactic in sorted(by_tactic, key=_tactic_key):
        names = ", ".join(f"`{_md(d.detection_id)}`" for d in by_tactic[tactic])
        lines.append(f"| {_md(tactic)} | {names} |")
    lines += [
        "",
        "## By technique",
        "",
        "| technique | detection | tactics | severity | unit tests |",
        "|---|---|---|---|---:|",
    ]
    pairs = sorted(
        ((technique, d) for d in detections for technique in d.techniques),
        key=lambda pair: (pair[0], pair[1].detection_id),
    )
    for technique, d in pairs:
        link = f"https://attack.mitre.org/techniques/{quote(technique.replace('.', '/'))}/"
        lines.append(
            f"| [{_md(technique)}]({link}) | `{_md(d.detection_id)}` — {_md(d.title)} | "
            f"{_mds(d.tactics)} | {_md(d.severity)} | {len(d.unit_tests)} |"
        )
    lines += [
        "",
        "## Detections",
        "",
        "Detections naming data events read CloudTrail data events of those resource types, "
        "which a trail logs only when its event selectors ask for them.",
        "",
        "| detection | model | tactics | techniques | data events | unit tests | raw sample |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in detections:
        names = _mds([t.name for t in d.unit_tests]) or "—"
        sample = "yes" if d.raw_sample else ("—" if d.source == "cloudtrail" else "n/a")
        lines.append(
            f"| `{_md(d.detection_id)}` | `{_md(d.model)}` | {_mds(d.tactics)} | "
            f"{_mds(d.techniques)} | {_mds(d.data_events) or '—'} | {names} | {sample} |"
        )
    return "\n".join(lines) + "\n"


def outputs(project: Path) -> dict[Path, str]:
    """Every generated file and its content."""
    markdown = render(load(project))
    docs = "{% docs detection_coverage %}\n" + markdown + "{% enddocs %}\n"
    return {
        project / "detections" / "COVERAGE.md": markdown,
        project / "models" / "detections" / "coverage.md": docs,
    }
