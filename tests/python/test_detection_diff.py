"""`ingest detections diff`: a throwaway git repository of the project whose second commit
turns one detection off and edits the enrichment, a lake built by that commit from the raw
samples of two detections, and the real CLI comparing the two commits' alerts over it. The
user's lake must come out byte for byte as it was: each revision builds in a scratch lake that
shares the lake's files through hard links, and the base revision rebuilds `cloudtrail_events`
there (its enrichment differs from the one the lake was built with), replacing linked files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from ingest import detection_diff

from conftest import (
    PROJECT_ROOT,
    Workspace,
    cloudtrail_record,
    invoke,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

pytestmark = pytest.mark.e2e

TAMPERING = "aws-cloudtrail-tampering"  # turned off by the head commit
ROOT_LOGIN = "aws-root-console-login"  # unchanged
SAMPLES = ("det_cloudtrail_tampering", "det_root_console_login")
DETECTION = Path("models/detections/cloudtrail/det_cloudtrail_tampering.sql")
ENRICHMENT = Path("models/intermediate/cloudtrail/int_cloudtrail__automation.sql")
# a user whose name is a terminal escape (and markup, which summaries drop with their
# brackets): a second tampering alert, whose summary the output must show as text
HOSTILE = "[bold]mallory[/]\x1b[2J"
SUMMARY = "boldmallory/\x1b2J called StopLogging"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
         "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every file of the workspace (the lake, the DuckDB file, dbt's target and logs, the
    repository): its bytes' hash, modification time, inode and link count."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        files[str(path)] = (digest, info.st_mtime_ns, info.st_ino, info.st_nlink)
    return files


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, str, str]:
    ws = Workspace.create(tmp_path_factory.mktemp("diff"))
    repo = ws.project_copy()
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    detection = repo / DETECTION
    text = detection.read_text()
    assert "event_source = 'cloudtrail.amazonaws.com'" in text
    detection.write_text(text.replace("event_source = 'cloudtrail.amazonaws.com'", "false", 1))
    with (repo / ENRICHMENT).open("a") as enrichment:
        enrichment.write("-- a changed comment changes the enrichment's fingerprint\n")
    _git(repo, "commit", "-q", "-am", "head: tampering off")
    head = _git(repo, "rev-parse", "HEAD")

    records = []
    for name in SAMPLES:
        sample = json.loads((PROJECT_ROOT / "tests" / "detections" / f"{name}.json").read_text())
        records += sample["fires"] + sample["ignores"]
    identity = {"type": "IAMUser", "userName": HOSTILE, "accountId": "111122223333",
                "principalId": "AIDAEXAMPLE000000002",
                "arn": "arn:aws:iam::111122223333:user/mallory"}  # fmt: skip
    records.append(
        cloudtrail_record(
            "hostile-stop-logging", "2026-03-01T15:00:00Z", userIdentity=identity,
            eventSource="cloudtrail.amazonaws.com", eventName="StopLogging", readOnly=False,
            requestParameters={"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"},
        )
    )  # fmt: skip
    run_ingest(ws, "load", "cloudtrail", write_delivery_file(ws.root / "s.json.gz", records))
    # the user's lake, built by the head commit (its working tree)
    run_dbt(ws, "build", "--select", "+alerts", "--exclude", "resource_type:unit_test",
            "resource_type:test")  # fmt: skip
    return ws, repo, base, head


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp dir the diff builds in: on the lake's file system, and watched."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_detection_turned_off_shows_its_alerts_removed_and_leaves_the_lake_alone(
    setup: tuple[Workspace, Path, str, str], scratch: Path
) -> None:
    ws, repo, base, head = setup
    user_alerts = ws.read("select detection_id from alerts order by 1")
    assert user_alerts == [(ROOT_LOGIN,)]
    before = _snapshot(ws.root)
    assert (ws.lake / "cloudtrail_events").is_dir() and (ws.lake / "alerts").is_dir()

    result = invoke(
        ws, "detections", "diff", base, head, "--threshold", "0", "--json", "--project", repo,
        expect=1,
    )  # fmt: skip
    diff = json.loads(result.stdout)

    assert (diff["base"]["commit"], diff["head"]["commit"]) == (base, head)
    assert (diff["base"]["alerts"], diff["head"]["alerts"]) == (3, 1)
    assert diff["over_threshold"] == [TAMPERING]
    assert diff["counts"] == {TAMPERING: {"base": 2, "head": 0}, ROOT_LOGIN: {"base": 1, "head": 1}}
    (tampering,) = diff["detections"]  # the unchanged detection is not listed
    assert tampering["detection_id"] == TAMPERING
    assert (tampering["base"], tampering["head"], tampering["delta"]) == (2, 0, -2)
    assert tampering["percent"] == 100.0 and tampering["over_threshold"]
    assert tampering["added"] == [] and tampering["changed"] == []
    removed, hostile = tampering["removed"]  # in the order they started
    assert set(removed) == {"alert_id", "alert_date", "severity", "event_count", "summary"}
    assert removed["event_count"] == 4 and "e-ct-tamper" in removed["summary"]
    assert hostile["event_count"] == 1 and hostile["summary"].startswith(SUMMARY)
    # the base's enrichment differs from the lake's: in its scratch lake it rebuilt
    # cloudtrail_events and baseline_days, unlinking their linked partition files and
    # publishing their state files by a rename over the linked names; the head computes them
    # as the lake did, and kept them
    rebuilt = {
        line.split(":")[0] for line in diff["base"]["rebuilt_inputs"] if " rebuilt 1," in line
    }
    assert rebuilt == {"cloudtrail_events", "baseline_days"}
    assert diff["head"]["rebuilt_inputs"] == []
    assert diff["base"]["inputs_linked"] > 0 and diff["base"]["inputs_copied"] == 0

    # the user's lake (its alerts and state) is as it was, and no file is linked any more
    after = _snapshot(ws.root)
    assert after == before
    assert ws.db.is_file() and str(ws.lake / "_state/dbt/alerts.parquet") in after
    assert all(nlink == 1 for *_, nlink in after.values())
    assert ws.read("select detection_id from alerts order by 1") == user_alerts
    assert list(scratch.iterdir()) == []  # the scratch directories are gone


def test_under_the_threshold_against_the_working_tree_exits_0(
    setup: tuple[Workspace, Path, str, str], scratch: Path
) -> None:
    ws, repo, base, _ = setup
    before = _snapshot(ws.root)
    # no HEAD_REF: the working tree, which is the head commit
    result = invoke(ws, "detections", "diff", base, "--threshold", "2", "--project", repo)
    output = " ".join(result.stdout.split())
    assert "head working tree" in output
    assert f"│ {TAMPERING} │ 2 │ 0 │ -2 (100%) │ 0 │ 2 │ 0 │" in output
    assert ROOT_LOGIN not in output
    assert f"- {TAMPERING} 2026-03-01 e-ct-tamper called" in output
    # the hostile name is shown as text: the escape made visible, not obeyed
    assert "\x1b" not in output
    assert f"- {TAMPERING} 2026-03-01 boldmallory/\\x1b2J called StopLogging" in output
    assert "No detection's alert count moved by more than 2 alert(s) and 25%." in output
    assert _snapshot(ws.root) == before
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~99", "HEAD:README.md"])
def test_a_ref_that_names_no_commit_is_a_usage_error(
    setup: tuple[Workspace, Path, str, str], scratch: Path, ref: str
) -> None:
    ws, repo, base, _ = setup
    result = invoke(ws, "detections", "diff", base, ref, "--project", repo, expect=2)
    assert "does not name a commit" in result.output or "not a git revision" in result.output
    assert list(scratch.iterdir()) == []


def test_the_example_workflow_tests_then_diffs_against_the_base_branch() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github/workflows/detections.yml").read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    runs = [s["run"] for s in steps if "run" in s]
    assert [r for r in runs if "make test" in r] and [r for r in runs if "ingest demo" in r]
    diff = steps[-1]
    assert diff["run"] == '.venv/bin/ingest detections diff "$BASE_REF" HEAD'
    assert diff["env"]["BASE_REF"] == "origin/${{ github.base_ref }}"
    # expressions reach scripts through the environment only (no injection into `run`)
    assert not [r for r in runs if "${{" in r]


def _alert(alert_id: str, detection: str, key: str, first: int, last: int, **values) -> dict:
    hour = lambda h: datetime(2026, 3, 1, h, tzinfo=UTC)  # noqa: E731
    alert = dict.fromkeys(detection_diff.COLUMNS)
    alert.update(alert_id=alert_id, detection_id=detection, dedup_key=key,
                 alert_date=date(2026, 3, 1), severity="high", event_count=1,
                 first_seen_at=hour(first), last_seen_at=hour(last), summary=alert_id)  # fmt: skip
    return {**alert, **values}


def test_an_alert_is_the_same_by_id_or_by_key_and_overlap_and_changed_names_its_fields() -> None:
    base = [
        _alert("a1", "d1", "k1", 1, 2),
        _alert("a2", "d1", "k2", 1, 2),
        _alert("a3", "d1", "k3", 1, 2),  # no head alert of its key overlaps it: removed
        _alert("a4", "d2", "k", 1, 1),
    ]
    head = [
        _alert("b1", "d1", "k1", 0, 2, event_count=2, summary="a1"),  # an earlier first event
        _alert("a2", "d1", "k2", 1, 2, severity="low"),
        _alert("b3", "d1", "k3", 4, 5),  # later, no overlap: added
        _alert("a4", "d2", "k", 1, 1),
        _alert("x", "d3", "k", 5, 5),  # a new detection
    ]
    diffs = {d.detection_id: d for d in detection_diff.compare(base, head)}
    d1 = diffs["d1"]
    assert (d1.base, d1.head) == (3, 3)
    assert [a["alert_id"] for a in d1.added] == ["b3"]
    assert [a["alert_id"] for a in d1.removed] == ["a3"]
    changed = {(c["base_alert_id"], c["head_alert_id"]): c["fields"] for c in d1.changed}
    assert changed == {
        ("a1", "b1"): {
            "event_count": {"base": 1, "head": 2},
            "first_seen_at": {
                "base": "2026-03-01 01:00:00+00:00",
                "head": "2026-03-01 00:00:00+00:00",
            },
        },
        ("a2", "a2"): {"severity": {"base": "high", "head": "low"}},
    }
    assert not diffs["d2"].differs
    # over: more than `threshold` alerts AND more than `percent` of the base count
    detection_diff.judge(list(diffs.values()), 0, 0)
    assert [d.detection_id for d in diffs.values() if d.over_threshold] == ["d3"]
    grown = detection_diff.DetectionDiff("d", base=10, head=13)
    detection_diff.judge([grown], 2, 25)
    assert grown.percent == 30 and grown.over_threshold
    detection_diff.judge([grown], 3, 25)
    assert not grown.over_threshold
    detection_diff.judge([grown], 2, 30)
    assert not grown.over_threshold
