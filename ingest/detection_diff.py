"""`ingest detections diff`: what a change to the detections does to the alerts, before it merges.

Each of two git revisions (or the working tree) is exported to a scratch directory under the
system temp dir and built there by its own `dbt build --select +alerts` over a scratch lake.
The scratch lake sees the user's lake through hard links (a copy where the two are on
different file systems): the landing zones, the lake datasets `alerts` reads
(`INPUT_DATASETS`) and their build state, so a revision whose enrichment is unchanged keeps
those datasets as they are and builds only its seeds, views and `alerts`; one that changed
them rebuilds them in the scratch lake. Never `alerts` itself: each revision computes every
alert afresh, so the two are compared on equal terms.

Hard links are safe because nothing writes a lake file in place: the `lake_partitions`
materialization publishes a file by renaming a finished one over its name and removes files
by unlinking them (ingest.lake `_publish`, ingest.dbt_plugin), both of which change the scratch
lake's directory entries, never the inode the user's lake shares. The user's lake, its
`alerts` dataset and its state are only read.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingest.duck import sql_string
from ingest.lake import Lake, UsageError
from ingest.query import dbt_database

# The lake datasets upstream of `alerts` (built from the landing zones): linked with their
# build state, so a revision that computes them the same way keeps them.
INPUT_DATASETS = ("cloudtrail_events", "http_access_log", "baseline_days")
# Only what the alerts need: seeds (a revision may change them), views and lake datasets.
DBT_BUILD = (
    "build",
    "--select",
    "+alerts",
    "--exclude",
    "resource_type:unit_test",
    "resource_type:test",
    "--target",
    "dev",
)
# What makes two alerts of one detection differ (the alert_id names detection, dedup key and
# first event time).
COMPARED = (
    "severity",
    "event_count",
    "first_seen_at",
    "last_seen_at",
    "title",
    "summary",
    "severity_reason",
    "suppressed",
    "threshold_count",
    "event_ids",
)
COLUMNS = ("alert_id", "detection_id", "dedup_key", "alert_date", *COMPARED)
_PARTITION = re.compile(r"^[a-z_]+=(\d{4}-\d{2}-\d{2})$")
# dbt's summary line of a lake_partitions model (macros/lake_partitions.sql)
_PARTITION_LOG = re.compile(r"\b([a-z_]+): rebuilt \d+, merged \d+, removed \d+ of \d+ partition")


class DiffError(Exception):
    """A revision could not be built (exit code 1, with dbt's last lines)."""


@dataclass(frozen=True)
class Revision:
    label: str  # as the user named it
    commit: str | None  # None: the working tree

    @property
    def short(self) -> str:
        return self.commit[:12] if self.commit else "working tree"


@dataclass
class Build:
    revision: Revision
    seconds: float = 0.0
    alerts: int = 0
    rebuilt_inputs: list[str] = field(default_factory=list)  # lines of input datasets rebuilt
    linked: int = 0  # lake files the scratch lake shares with the user's (hard links)
    copied: int = 0  # ... or had to copy (another file system)
    counts: dict[str, int] = field(default_factory=dict)  # alerts per detection


@dataclass
class DetectionDiff:
    detection_id: str
    base: int
    head: int
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    over_threshold: bool = False

    @property
    def delta(self) -> int:
        return self.head - self.base

    @property
    def percent(self) -> float:
        """The count's move relative to the base count (infinite for a new detection)."""
        if self.delta == 0:
            return 0.0
        return math.inf if self.base == 0 else abs(self.delta) * 100.0 / self.base

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class Result:
    base: Build
    head: Build
    detections: list[DetectionDiff]
    threshold: int
    threshold_percent: float
    days: int | None

    @property
    def over_threshold(self) -> list[DetectionDiff]:
        return [d for d in self.detections if d.over_threshold]

    def to_json(self) -> dict[str, Any]:
        def build(b: Build) -> dict[str, Any]:
            return {
                "ref": b.revision.label,
                "commit": b.revision.commit,
                "alerts": b.alerts,
                "seconds": round(b.seconds, 1),
                "rebuilt_inputs": b.rebuilt_inputs,
                "inputs_linked": b.linked,
                "inputs_copied": b.copied,
            }

        return {
            "base": build(self.base),
            "head": build(self.head),
            "threshold": {"alerts": self.threshold, "percent": self.threshold_percent},
            "days": self.days,
            "over_threshold": [d.detection_id for d in self.over_threshold],
            # every detection that raised an alert in either revision
            "counts": {d.detection_id: {"base": d.base, "head": d.head} for d in self.detections},
            "detections": [
                {
                    "detection_id": d.detection_id,
                    "base": d.base,
                    "head": d.head,
                    "delta": d.delta,
                    "percent": None if math.isinf(d.percent) else round(d.percent, 1),
                    "over_threshold": d.over_threshold,
                    "added": d.added,
                    "removed": d.removed,
                    "changed": d.changed,
                }
                for d in self.detections
                if d.differs
            ],
        }


# -- revisions --------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def repository(project: Path) -> tuple[Path, Path]:
    """The git work tree holding `project`, and the project's path inside it."""
    found = _git(project, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise UsageError(f"{project} is not inside a git repository: {found.stderr.strip()}")
    top = Path(found.stdout.strip()).resolve()
    return top, project.resolve().relative_to(top)


def resolve(repo: Path, ref: str) -> Revision:
    """A ref as the commit it names. The ref is one argument to git after `--end-of-options`
    (never a shell word, never an option), and must name a commit."""
    if not ref or "\0" in ref or ref.startswith("-"):
        raise UsageError(f"not a git revision: {ref!r}")
    found = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    commit = found.stdout.strip()
    if found.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", commit):
        raise UsageError(f"{ref!r} does not name a commit in {repo}")
    return Revision(ref, commit)


def export(revision: Revision, repo: Path, relative: Path, destination: Path) -> Path:
    """The revision's project files under `destination`; returns the project directory. The
    working tree is its tracked and untracked files git does not ignore (a new detection not
    yet added counts; the lake, .venv and build output do not)."""
    destination.mkdir(parents=True)
    if revision.commit is None:
        listed = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        if listed.returncode != 0:
            raise DiffError(f"git ls-files failed: {listed.stderr.strip()}")
        for name in filter(None, listed.stdout.split("\0")):
            source = repo / name
            if source.is_file():  # tracked files deleted in the work tree are gone
                target = destination / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target, follow_symlinks=False)
    else:
        # git's messages go to a file: a pipe nobody reads while the archive streams could
        # fill and stop git
        with (
            tempfile.TemporaryFile() as messages,
            subprocess.Popen(
                ["git", "-C", str(repo), "archive", "--format=tar", revision.commit],
                stdout=subprocess.PIPE,
                stderr=messages,
            ) as archive,
        ):
            assert archive.stdout is not None
            with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
                # the "data" filter refuses absolute paths, `..` and links out of the directory
                tar.extractall(destination, filter="data")
            archive.wait()
            messages.seek(0)
            error = messages.read().decode(errors="replace").strip()
        if archive.returncode != 0:
            raise DiffError(f"git archive {revision.commit} failed: {error}")
    project = destination / relative
    if not (project / "dbt_project.yml").is_file():
        raise DiffError(
            f"{revision.label or 'the working tree'} has no dbt project at {relative.as_posix()}"
        )
    return project


# -- the scratch lake -------------------------------------------------------------------------


def _link(source: Path, target: Path) -> bool:
    """A hard link (True), or a copy where there can be none (another file system)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
        return True
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target)
        return False


def _partition_day(directory: Path) -> date | None:
    match = _PARTITION.match(directory.name)
    return date.fromisoformat(match.group(1)) if match else None


def _partitions(dataset: Path) -> list[Path]:
    if not dataset.is_dir():
        return []
    return sorted(p for p in dataset.iterdir() if p.is_dir() and not p.is_symlink())


def input_days(lake: Path) -> list[date]:
    """Every day that has input: partitions of the landing zones and of the input datasets."""
    days = set()
    sources = [p for p in (lake / "landing").glob("*") if p.is_dir()]
    for dataset in [*sources, *(lake / name for name in INPUT_DATASETS)]:
        days |= {day for p in _partitions(dataset) if (day := _partition_day(p))}
    return sorted(days)


def link_inputs(lake: Path, scratch: Path, days: int | None) -> tuple[int, int]:
    """Make the scratch lake read what the alerts are built from; with `days`, only the last
    `days` days that have input. Returns the number of files linked and copied."""
    chosen = input_days(lake)
    first = chosen[-1] - timedelta(days=days - 1) if days and chosen else None
    files = []
    sources = [p for p in (lake / "landing").glob("*") if p.is_dir() and not p.is_symlink()]
    for dataset in [*sources, *(lake / name for name in INPUT_DATASETS)]:
        for partition in _partitions(dataset):
            day = _partition_day(partition)
            if day is None or (first is not None and day < first):
                continue
            for file in partition.iterdir():
                if file.is_file() and not file.is_symlink() and file.suffix == ".parquet":
                    files.append(file)
    state = [lake / "_state" / "dbt" / f"{name}.parquet" for name in INPUT_DATASETS]
    # collection filters before storage: part of what cloudtrail_events is built from
    state += sorted((lake / "_state" / "collections").glob("*.parquet"))
    files += [file for file in state if file.is_file() and not file.is_symlink()]
    linked = sum(_link(file, scratch / file.relative_to(lake)) for file in files)
    return linked, len(files) - linked


# -- building a revision ----------------------------------------------------------------------


def _dbt() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


def build(
    project: Path, work: Path, on_line: Callable[[str], None] = lambda line: None
) -> list[str]:
    """`dbt build` of the revision's alerts over the scratch lake `work/lake`. Returns the
    summary lines of input datasets the revision rebuilt; raises DiffError with dbt's last
    lines when the build fails."""
    env = {
        **os.environ,
        "TRAILHOUSE_LAKE": str(work / "lake"),
        # the user's file name: it is dbt's database name, which the compiled SQL of the
        # input datasets names, and so their fingerprint (a different name rebuilds them)
        "TRAILHOUSE_DB": str(work / dbt_database().name),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DO_NOT_TRACK": "1",
    }
    command = [
        _dbt(), *DBT_BUILD, "--no-use-colors",
        "--project-dir", str(project), "--profiles-dir", str(project),
    ]  # fmt: skip
    tail: list[str] = []
    rebuilt: list[str] = []
    with subprocess.Popen(
        command,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                line = line.rstrip()
                tail = [*tail[-59:], line]
                on_line(line)
                found = _PARTITION_LOG.search(line)
                if found and found.group(1) in INPUT_DATASETS and " rebuilt 0," not in line:
                    rebuilt.append(line[found.start() :])
        except BaseException:
            process.kill()
            raise
    if process.returncode != 0:
        raise DiffError("dbt build failed:\n" + "\n".join(tail))
    return rebuilt


# -- comparing --------------------------------------------------------------------------------


def read_alerts(lake: Path) -> list[dict[str, Any]]:
    """The alerts a revision built (none when it raised none)."""
    if not any((lake / "alerts").glob("*/*.parquet")):
        return []
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        result = con.execute(
            f"select {', '.join(COLUMNS)} from read_parquet("
            f"{sql_string(str(lake / 'alerts' / '*' / '*.parquet'))}, hive_partitioning = true)"
        )
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def _brief(alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert_id": alert["alert_id"],
        "alert_date": str(alert["alert_date"]),
        "severity": alert["severity"],
        "event_count": alert["event_count"],
        "summary": alert["summary"],
    }


def _shown_value(value: Any) -> Any:
    if isinstance(value, list):
        return len(value) if len(value) > 5 else [str(v) for v in value]
    return value if isinstance(value, (int, float, bool, str)) or value is None else str(value)


def compare(base: list[dict], head: list[dict]) -> list[DetectionDiff]:
    """Per detection: alerts only the head raises (added), only the base (removed), and both
    but differently (changed). Two alerts are the same alert when they have the same id
    (detection, dedup key, first event), or else the same detection, dedup key and day with
    overlapping times (a change that moved the first event)."""
    by_id = {a["alert_id"]: a for a in head}
    pairs: list[tuple[dict, dict]] = []
    lone_base = []
    for alert in base:
        other = by_id.pop(alert["alert_id"], None)
        if other is None:
            lone_base.append(alert)
        else:
            pairs.append((alert, other))

    def order(alert: dict) -> tuple:
        return (alert["first_seen_at"], alert["alert_id"])

    def key(alert: dict) -> tuple:
        return (alert["detection_id"], alert["dedup_key"], alert["alert_date"])

    candidates: dict[tuple, list[dict]] = {}
    for alert in sorted(by_id.values(), key=order):
        candidates.setdefault(key(alert), []).append(alert)
    removed = []
    for alert in sorted(lone_base, key=order):
        same_key = candidates.get(key(alert), [])
        match = next(
            (
                other
                for other in same_key
                if other["first_seen_at"] <= alert["last_seen_at"]
                and alert["first_seen_at"] <= other["last_seen_at"]
            ),
            None,
        )
        if match is None:
            removed.append(alert)
        else:
            same_key.remove(match)
            pairs.append((alert, match))
    lone_head = sorted((a for group in candidates.values() for a in group), key=order)

    diffs: dict[str, DetectionDiff] = {}

    def of(detection_id: str) -> DetectionDiff:
        return diffs.setdefault(detection_id, DetectionDiff(detection_id, 0, 0))

    for alert in base:
        of(alert["detection_id"]).base += 1
    for alert in head:
        of(alert["detection_id"]).head += 1
    for alert in removed:
        of(alert["detection_id"]).removed.append(_brief(alert))
    for alert in lone_head:
        of(alert["detection_id"]).added.append(_brief(alert))
    for old, new in pairs:
        fields = [name for name in COMPARED if old[name] != new[name]]
        if fields:
            of(old["detection_id"]).changed.append(
                {
                    "base_alert_id": old["alert_id"],
                    "head_alert_id": new["alert_id"],
                    "alert_date": str(new["alert_date"]),
                    "summary": new["summary"],
                    "fields": {
                        name: {"base": _shown_value(old[name]), "head": _shown_value(new[name])}
                        for name in fields
                    },
                }
            )
    return sorted(diffs.values(), key=lambda d: d.detection_id)


def judge(diffs: list[DetectionDiff], threshold: int, percent: float) -> None:
    """A detection is over the threshold when its alert count moves by more than `threshold`
    alerts and by more than `percent` percent of its base count."""
    for diff in diffs:
        diff.over_threshold = abs(diff.delta) > threshold and diff.percent > percent


# -- the whole run ----------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A private scratch directory under the system temp dir, removed whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="trailhouse-diff-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(
    project: Path,
    base_ref: str,
    head_ref: str | None,
    *,
    threshold: int,
    threshold_percent: float,
    days: int | None,
    on_step: Callable[[str], None] = lambda step: None,
    on_line: Callable[[str], None] = lambda line: None,
) -> Result:
    """Build the alerts of both revisions over the lake (TRAILHOUSE_LAKE) and compare them."""
    repo, relative = repository(project)
    base_revision = resolve(repo, base_ref)
    head_revision = resolve(repo, head_ref) if head_ref is not None else Revision("", None)
    lake = Lake.from_env().root  # a local lake: an S3 lake is refused here
    if not input_days(lake):
        raise UsageError(f"the lake {lake} has nothing to build alerts from: land and build first")
    builds = []
    with _scratch() as work:
        for name, revision in (("base", base_revision), ("head", head_revision)):
            started = time.monotonic()
            # Both revisions are built at the same paths, one after the other, with one dbt
            # target directory: the head's build parses only the files that differ from the
            # base's (dbt's partial parsing), as after a `git checkout`.
            for previous in ("tree", "lake", "logs"):
                shutil.rmtree(work / previous, ignore_errors=True)
            for database in work.glob("*.duckdb*"):
                database.unlink()
            on_step(f"{name} ({revision.label or revision.short}): exporting the revision")
            project_copy = export(revision, repo, relative, work / "tree")
            on_step(f"{name}: linking the lake's inputs")
            linked, copied = link_inputs(lake, work / "lake", days)
            on_step(f"{name}: dbt build --select +alerts")
            rebuilt = build(project_copy, work, on_line)
            alerts = read_alerts(work / "lake")
            done = Build(revision, time.monotonic() - started, len(alerts), rebuilt, linked, copied)
            builds.append((done, alerts))
    (base, base_alerts), (head, head_alerts) = builds
    diffs = compare(base_alerts, head_alerts)
    judge(diffs, threshold, threshold_percent)
    return Result(base, head, diffs, threshold, threshold_percent, days)


# -- output -----------------------------------------------------------------------------------


def render(result: Result, console: Any, examples: int = 3) -> None:
    """The per-detection table and a few alerts of each detection that moved. Every lake value
    (ids, summaries) is escaped for the terminal."""
    from rich.table import Table

    from ingest.console import shown

    def revision(b: Build) -> str:
        return f"{shown(b.revision.label or 'working tree')} ({b.revision.short})"

    console.print(
        f"base {revision(result.base)}: {result.base.alerts:,} alerts · "
        f"head {revision(result.head)}: {result.head.alerts:,} alerts"
        + (f" · the last {result.days} day(s) of the lake" if result.days else ""),
        soft_wrap=True,
    )
    for b in (result.base, result.head):
        for line in b.rebuilt_inputs:
            console.print(f"  {revision(b)} rebuilt an input: {shown(line)}", soft_wrap=True)
    moved = [d for d in result.detections if d.differs]
    if not moved:
        console.print("No detection's alerts changed.")
        return
    table = Table(title="Alerts per detection, base → head")
    table.add_column("detection", overflow="fold")
    for name in ("base", "head", "Δ", "added", "removed", "changed"):
        table.add_column(name, justify="right")
    table.add_column("")
    for d in moved:
        percent = "new" if math.isinf(d.percent) else f"{d.percent:.0f}%"
        table.add_row(
            shown(d.detection_id),
            f"{d.base:,}",
            f"{d.head:,}",
            f"{d.delta:+,} ({percent})" if d.delta else "0",
            f"{len(d.added):,}",
            f"{len(d.removed):,}",
            f"{len(d.changed):,}",
            "[red]over threshold[/]" if d.over_threshold else "",
        )
    console.print(table)
    for d in moved:
        lines = [("+", a) for a in d.added[:examples]] + [("-", a) for a in d.removed[:examples]]
        lines += [("~", c) for c in d.changed[:examples]]
        for sign, alert in lines:
            fields = alert.get("fields")
            what = f" [{', '.join(fields)}]" if fields else ""
            console.print(
                f"  {sign} {shown(d.detection_id)} {shown(alert['alert_date'])} "
                f"{shown(alert['summary'])}{shown(what)}",
                soft_wrap=True,
            )
    over = result.over_threshold
    limit = f"more than {result.threshold} alert(s) and {result.threshold_percent:g}%"
    if over:
        console.print(
            f"[red]{len(over)} detection(s) moved by {limit}:[/] "
            + ", ".join(shown(d.detection_id) for d in over),
            soft_wrap=True,
        )
    else:
        console.print(f"No detection's alert count moved by {limit}.")
