"""Alert triage (`ingest alerts`): statuses and their history in the lake's `alert_triage`
dataset, on the demo lake's real alerts (a copy for every test that writes), on a lake on S3,
and the suppression seed row dbt then loads and tests."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest import triage
from ingest.lake import Lake, UsageError

from conftest import LakeReader, Workspace, invoke, run_dbt

ALERT = {
    "alert_id": "a1",
    "detection_id": "aws-access-key-new-source-ip",
    "principal_arn": "arn:aws:iam::111122223333:user/alice",
    "source_ip_address": "203.0.113.7",
    "account_id": "111122223333",
}
HOSTILE = "[red]pwned[/red] \x1b[31mred\x1b[0m\nforged line"


def listed(ws: Workspace, *args: str) -> list[dict]:
    return json.loads(invoke(ws, "alerts", "list", "--limit", "1000", "--json", *args).output)


def shown_alert(ws: Workspace, alert_id: str) -> dict:
    return json.loads(invoke(ws, "alerts", "show", alert_id, "--json").output)


def triage_files(ws: Workspace) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((ws.lake / "alert_triage").glob("*/*.parquet"))}


def newest(ws: Workspace, **filters: str) -> dict:
    args = [x for key, value in filters.items() for x in (f"--{key}", value)]
    return listed(ws, *args)[0]


# -- reading: a frozen (shared) lake --------------------------------------------------------


def test_list_and_show_read_a_lake_nobody_triaged(demo_lake: Workspace) -> None:
    rows = listed(demo_lake)
    in_lake = LakeReader(demo_lake.lake).scalar("select count(*) from alerts where not suppressed")
    assert len(rows) == in_lake > 0
    assert {r["status"] for r in rows} == {"open"}
    seen = [r["last_seen_at"] for r in rows]
    assert seen == sorted(seen, reverse=True)  # newest first
    critical = listed(demo_lake, "--severity", "critical")
    assert critical and {r["severity"] for r in critical} == {"critical"}
    one = listed(demo_lake, "--detection", critical[0]["detection_id"])
    assert {r["detection_id"] for r in one} == {critical[0]["detection_id"]}

    table = invoke(demo_lake, "alerts", "list", "--limit", "3").output
    assert rows[0]["alert_id"] in table and "3 alert(s)" in table
    alert_id = rows[0]["alert_id"]
    text = invoke(demo_lake, "alerts", "show", alert_id[:10]).output
    assert alert_id in text and "nobody has triaged it" in text
    assert f"Events {rows[0]['event_count']:,}" in text

    payload = json.loads(invoke(demo_lake, "status", "--json").output)
    assert payload["alerts_by_status"] == {"open": in_lake, "acknowledged": 0, "closed": 0}
    assert "alert_triage" not in payload["datasets"]  # nothing triaged, no dataset


def test_unknown_or_bad_arguments_are_clear_errors(demo_lake: Workspace, tmp_path: Path) -> None:
    result = invoke(demo_lake, "alerts", "show", "no-such-alert", expect=1)
    assert "no alert with id 'no-such-alert'" in result.output
    result = invoke(demo_lake, "alerts", "list", "--status", "done", expect=2)
    assert "--status must be one of open, acknowledged, closed" in result.output
    ws = demo_lake.copy(tmp_path / "ws")
    result = invoke(ws, "alerts", "ack", "no-such-alert", expect=1)
    assert "no alert with id" in result.output
    assert not (ws.lake / "alert_triage").exists()


# -- writing: a copy of the lake ------------------------------------------------------------


def test_ack_close_reopen_append_one_file_each(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws").with_env(TRAILHOUSE_ACTOR="analyst-1")
    alert_id = newest(ws, severity="critical")["alert_id"]

    out = invoke(ws, "alerts", "ack", alert_id, "--assignee", "alice", "--note", "looking").output
    assert "open → acknowledged by analyst-1 · assignee alice" in out
    first = triage_files(ws)
    assert len(first) == 1
    [(path, _)] = first.items()
    assert path.parent.name == f"triage_date={datetime.now(UTC):%Y-%m-%d}"

    invoke(ws, "alerts", "close", alert_id, "--note", "benign: change CHG-1", "--actor", "bob")
    second = triage_files(ws)
    assert len(second) == 2
    assert {p: b for p, b in second.items() if p in first} == first  # nothing rewritten

    # a no-op, and a transition that is not one, change nothing
    assert "already closed" in invoke(ws, "alerts", "close", alert_id, expect=1).output
    assert "reopen` it first" in invoke(ws, "alerts", "ack", alert_id, expect=1).output
    assert triage_files(ws) == second

    row = newest(ws, severity="critical", status="closed")
    assert (row["alert_id"], row["assignee"], row["triaged_by"]) == (alert_id, "alice", "bob")
    payload = json.loads(invoke(ws, "status", "--json").output)
    assert payload["alerts_by_status"]["closed"] == 1
    assert payload["datasets"]["alert_triage"]["rows"] == 2

    invoke(ws, "alerts", "reopen", alert_id, "--note", "more to check")
    invoke(ws, "alerts", "assign", alert_id, "--assignee", "carol")
    history = shown_alert(ws, alert_id)["history"]
    assert [(h["action"], h["from_status"], h["to_status"], h["assignee"], h["actor"])
            for h in history] == [
        ("ack", "open", "acknowledged", "alice", "analyst-1"),
        ("close", "acknowledged", "closed", "alice", "bob"),
        ("reopen", "closed", "open", "alice", "analyst-1"),
        ("assign", "open", "open", "carol", "analyst-1"),
    ]  # fmt: skip
    assert history[1]["note"] == "benign: change CHG-1"
    assert len(triage_files(ws)) == 4
    # `ingest status`: who has the open alerts of a detection
    detection = shown_alert(ws, alert_id)["detection_id"]
    [row] = [r for r in json.loads(invoke(ws, "status", "--json").output)["open_alerts"]
             if r["detection_id"] == detection]  # fmt: skip
    assert "carol" in row["assignees"] and row["acknowledged"] == 0
    assert "carol" in invoke(ws, "status").output

    # `ingest query`: the dataset, and alerts with their status and assignee
    result = invoke(
        ws, "query", "-o", "json",
        "select alert_id, status, assignee from alerts_triaged where status_reason is null "
        "and assignee is not null",
    )  # fmt: skip
    assert json.loads(result.output) == [
        {"alert_id": alert_id, "status": "open", "assignee": "carol"}
    ]
    # the history is whole whatever the time range: the triage is newer than the alerts
    result = invoke(
        ws, "query", "-o", "json", "--from", "2026-01-01", "--to", "2026-01-31",
        "select count(*) as n from alert_triage",
    )  # fmt: skip
    assert json.loads(result.output) == [{"n": 4}]


def test_a_closed_alert_with_later_events_reads_open(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    lake = Lake.at(str(ws.lake))
    later, grown = listed(ws)[:2]
    # closed before its last event, as if that event had arrived after the close
    close = triage.Row(
        later["alert_id"], "close", "open", "closed", None, "fp", "bob",
        datetime.fromisoformat(later["last_seen_at"]) - timedelta(minutes=1),
        later["event_count"], datetime.fromisoformat(later["last_seen_at"]),
    )  # fmt: skip
    # closed now, having seen fewer events than the alert has now (a late event)
    close_grown = triage.Row(
        grown["alert_id"], "close", "open", "closed", None, "fp", "bob", datetime.now(UTC),
        grown["event_count"] - 1, datetime.fromisoformat(grown["last_seen_at"]),
    )  # fmt: skip
    triage.append(lake, [close])
    triage.append(lake, [close_grown])

    rows = {r["alert_id"]: r for r in listed(ws, "--status", "open")}
    for alert in (later, grown):
        assert rows[alert["alert_id"]]["status_reason"] == "new events after close"
    assert "new events after close" in invoke(ws, "alerts", "list").output
    assert json.loads(invoke(ws, "status", "--json").output)["alerts_by_status"]["closed"] == 0

    # the next command on it records why it was open again, then its own action
    out = invoke(ws, "alerts", "ack", later["alert_id"]).output
    assert "recorded as reopened" in out
    history = shown_alert(ws, later["alert_id"])["history"]
    assert [(h["action"], h["to_status"], h["actor"]) for h in history] == [
        ("close", "closed", "bob"),
        ("auto_reopen", "open", "trailhouse"),
        ("ack", "acknowledged", history[2]["actor"]),
    ]
    # closed again after those events: it stays closed
    invoke(ws, "alerts", "close", later["alert_id"])
    assert shown_alert(ws, later["alert_id"])["status"] == "closed"

    # a row dated in the future (forged, or a skewed clock) does not win over what follows
    forged = triage.Row(
        grown["alert_id"], "close", "open", "closed", None, "forged", "mallory",
        datetime.now(UTC) + timedelta(days=3650), grown["event_count"] + 10**6, None,
    )  # fmt: skip
    triage.append(lake, [forged])
    assert shown_alert(ws, grown["alert_id"])["status"] == "open"


def test_hostile_note_and_assignee_are_shown_as_text(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    alert_id = listed(ws)[0]["alert_id"]
    invoke(ws, "alerts", "ack", alert_id, "--note", HOSTILE, "--assignee", "[bold]eve")
    assert shown_alert(ws, alert_id)["history"][0]["note"] == HOSTILE  # stored as given
    for output in (
        invoke(ws, "alerts", "show", alert_id).output,
        invoke(ws, "alerts", "list", "--status", "acknowledged").output,
    ):
        assert "\x1b" not in output
        assert "[bold]eve" in output
    show = invoke(ws, "alerts", "show", alert_id).output
    assert "[red]pwned[/red]" in show and "\\x1b[31mred" in show and "\\nforged line" in show
    assert "\nforged line" not in show


def test_suppress_writes_a_seed_row_dbt_loads(demo_lake: Workspace, tmp_path: Path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    project = ws.project_copy()
    seed = project / "seeds" / "detection_suppressions.csv"
    before = seed.read_text()
    alert = next(r for r in listed(ws) if r["principal_arn"] and r["source_ip_address"])
    reason = 'CHG-7, approved by "ops"\nsecond line'

    for bad in (["--days", "0"], ["--days", "-3"]):
        invoke(ws, "alerts", "suppress", alert["alert_id"], *bad, "--reason", "x",
               "--project", project, expect=2)  # fmt: skip
    result = invoke(ws, "alerts", "suppress", alert["alert_id"], "--days", "30", "--reason",
                    "bell\x07", "--project", project, expect=2)  # fmt: skip
    assert "control characters" in result.output
    assert seed.read_text() == before and not (ws.lake / "alert_triage").exists()

    out = invoke(ws, "alerts", "suppress", alert["alert_id"], "--days", "30", "--reason", reason,
                 "--project", project).output  # fmt: skip
    assert "dbt build" in out
    assert seed.read_text().startswith(before)
    rows = list(csv.DictReader(seed.open(newline="")))
    added = rows[-1]
    assert added["detection_id"] == alert["detection_id"]
    assert added["principal_pattern"] == alert["principal_arn"]
    assert added["account_id"] == alert["account_id"]
    assert added["source_cidr"].split("/")[0] == alert["source_ip_address"]
    assert added["reason"] == reason
    expires = datetime.strptime(added["expires_at"], "%Y-%m-%d %H:%M:%S+00").replace(tzinfo=UTC)
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    [history] = shown_alert(ws, alert["alert_id"])["history"]
    assert (history["action"], history["to_status"]) == ("suppress", "closed")

    run_dbt(ws, "seed", "--select", "detection_suppressions")
    run_dbt(ws, "test", "--select", "detection_suppressions")
    [(loaded,)] = ws.catalog(
        "select reason from detection_suppressions where principal_pattern = "
        f"'{alert['principal_arn']}' and detection_id = '{alert['detection_id']}'"
    )
    assert loaded == reason


def test_a_seed_that_cannot_be_written_leaves_the_alert_closed_not_hidden(
    demo_lake: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history is written before the seed: a failed seed write leaves a closed alert that
    its next events reopen, never a suppression nobody recorded."""
    ws = demo_lake.copy(tmp_path / "ws")
    project = ws.project_copy()
    seed = project / "seeds" / "detection_suppressions.csv"
    before = seed.read_text()
    alert = next(r for r in listed(ws) if r["principal_arn"] and r["source_ip_address"])

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(triage, "append_seed", disk_full)
    out = invoke(ws, "alerts", "suppress", alert["alert_id"], "--days", "7", "--reason",
                 "CHG-9", "--project", project, expect=1).output  # fmt: skip
    assert "the alert is closed, but the suppression could not be written" in out
    assert "No space left on device" in out
    assert seed.read_text() == before
    shown = shown_alert(ws, alert["alert_id"])
    assert shown["status"] == "closed"
    assert [h["action"] for h in shown["history"]] == ["suppress"]


def test_triage_on_a_lake_on_s3(aws, demo_lake: Workspace, monkeypatch, ingest) -> None:
    aws.s3.create_bucket(Bucket="lake-bucket")
    for path in sorted((demo_lake.lake / "alerts").glob("*/*.parquet")):
        key = f"lake/{path.relative_to(demo_lake.lake).as_posix()}"
        aws.s3.upload_file(str(path), "lake-bucket", key)
    monkeypatch.setenv("TRAILHOUSE_LAKE", "s3://lake-bucket/lake")
    alert_id = json.loads(ingest("alerts", "list", "--json").output)[0]["alert_id"]
    ingest("alerts", "ack", alert_id, "--note", "on it")
    ingest("alerts", "close", alert_id)
    keys = [
        o["Key"]
        for o in aws.s3.list_objects_v2(Bucket="lake-bucket", Prefix="lake/alert_triage/")[
            "Contents"
        ]
    ]
    assert len(keys) == 2 and all(k.endswith(".parquet") for k in keys)
    shown = json.loads(ingest("alerts", "show", alert_id, "--json").output)
    assert shown["status"] == "closed"
    assert [h["action"] for h in shown["history"]] == ["ack", "close"]


# -- the suppression row, without a lake ----------------------------------------------------


def test_suppression_row_is_narrow_by_default() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    row = triage.suppression_for(ALERT, 7, " CHG-1 ", now=now)
    assert row.as_row() == {
        "detection_id": ALERT["detection_id"],
        "principal_pattern": ALERT["principal_arn"],
        "source_cidr": "203.0.113.7/32",
        "account_id": "111122223333",
        "reason": "CHG-1",
        "expires_at": "2026-01-08 00:00:00+00",
    }
    v6 = {**ALERT, "source_ip_address": "2001:db8::1"}
    assert triage.suppression_for(v6, 1, "r").source_cidr == "2001:db8::1/128"
    service = {**ALERT, "source_ip_address": "ec2.amazonaws.com"}
    assert triage.suppression_for(service, 1, "r").source_cidr == ""
    assert triage.suppression_for(ALERT, 1, "r", any_source=True).source_cidr == ""
    assert triage.suppression_for(ALERT, 1, "r", source_cidr="203.0.113.9/24").source_cidr == (
        "203.0.113.0/24"
    )
    with pytest.raises(UsageError):
        triage.suppression_for(ALERT, 0, "r")
    with pytest.raises(UsageError):
        triage.suppression_for(ALERT, 1, "  ")
    with pytest.raises(UsageError):
        triage.suppression_for(ALERT, 1, "a\x1b[31m")
    for null_like in ("null", "NA", "none", "."):  # dbt would load NULL and fail its test
        with pytest.raises(UsageError):
            triage.suppression_for(ALERT, 1, null_like)
    with pytest.raises(triage.TriageError):  # a pattern would match more than this principal
        triage.suppression_for({**ALERT, "principal_arn": "arn:aws:iam::1:user/*"}, 1, "r")
    with pytest.raises(triage.TriageError):  # nothing left to narrow it: every caller
        triage.suppression_for({**ALERT, "principal_arn": None}, 1, "r", any_source=True)


def test_seed_rows_round_trip_through_csv(tmp_path: Path) -> None:
    seed = tmp_path / "detection_suppressions.csv"
    seed.write_text(",".join(triage.SEED_COLUMNS))  # no final line break
    reasons = ['commas, and "quotes"', "two\nlines", "=cmd|' /C calc'!A0"]
    for reason in reasons:
        triage.append_seed(seed, triage.suppression_for(ALERT, 1, reason))
    assert [r["reason"] for r in csv.DictReader(seed.open(newline=""))] == reasons
    assert not list(tmp_path.glob(".*"))  # nothing left aside
    with pytest.raises(UsageError):
        triage.append_seed(tmp_path / "missing.csv", triage.suppression_for(ALERT, 1, "r"))
