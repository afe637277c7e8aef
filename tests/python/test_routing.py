"""Routing alerts (`destinations:` of trailhouse.yml): `ingest alerts send` and `ingest watch`
deliver the demo lake's real alerts to a generic webhook, Slack (Block Kit) and PagerDuty
(Events v2), each a loopback receiver that checks the payload's schema; per-destination
severity and detection filters; one destination down or failing keeps its alerts in its own
outbox while the others deliver; secrets never printed or stored; hostile alert text escaped
for Slack; config errors named by line."""

from __future__ import annotations

import json
import os
import socket
import textwrap
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

import duckdb
import pytest

from ingest import destinations, routing
from ingest.delivery import DeliveryError
from ingest.lake import Lake
from ingest.pull import PullSummary
from ingest.watch import Watcher

from conftest import Received, Workspace, invoke

SEVERITY_RANK = {s: i for i, s in enumerate(destinations.SEVERITIES)}
SLACK_TOKEN = "T000/B000/slack-s3cr3t-token"
ROUTING_KEY = "pd-routing-key-s3cr3t-0123456789ab"
HOOK_TOKEN = "hook-s3cr3t-path"
HOSTILE = "<!channel> *x* <http://evil|y>"


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/down"


def configure(ws: Workspace, body: str, **env: str) -> Workspace:
    path = ws.root / "trailhouse.yml"
    path.write_text(textwrap.dedent(body))
    return ws.with_env(TRAILHOUSE_CONFIG=str(path), **env)


ROUTES = """
    destinations:
      - name: everything
        type: webhook
        url: ${HOOK_URL}
      - name: soc-slack
        type: slack
        url: ${SLACK_URL}
        min_severity: high
        link: https://trailhouse.example.com/alerts/
      - name: pager
        type: pagerduty
        routing_key: ${PD_KEY}
        events_url: ${PD_URL}
        detections: ["aws-iam-*", "aws-cloudtrail-*"]
        exclude_detections: ["aws-iam-access-key-*"]
"""


def routed_ws(demo_lake: Workspace, tmp_path: Path, hook: str, slack: str, pager: str) -> Workspace:
    ws = demo_lake.copy(tmp_path / "ws")
    return configure(
        ws, ROUTES, HOOK_URL=f"{hook}/{HOOK_TOKEN}", SLACK_URL=f"{slack}/{SLACK_TOKEN}",
        PD_KEY=ROUTING_KEY, PD_URL=pager,
    )  # fmt: skip


def lake_alerts(ws: Workspace) -> list[dict]:
    """The lake's alerts as any reader sees them (not through the code under test)."""
    from conftest import LakeReader

    return LakeReader(ws.lake).dicts("select * exclude (event_ids) from alerts")


def expected(ws: Workspace, name: str) -> set[str]:
    """The alert ids destination `name` of ROUTES should get on a first send (no triage)."""
    high = {"high", "critical"}
    found = set()
    for alert in lake_alerts(ws):
        detection, suppressed = alert["detection_id"], alert["suppressed"]
        paged = (
            any(fnmatchcase(detection, glob) for glob in ("aws-iam-*", "aws-cloudtrail-*"))
            and not fnmatchcase(detection, "aws-iam-access-key-*")
            and not suppressed  # a suppressed alert was never triggered: nothing to resolve
        )
        if (
            name == "everything"
            or (name == "soc-slack" and alert["severity"] in high and not suppressed)
            or (name == "pager" and paged)
        ):
            found.add(alert["alert_id"])
    return found


def send(ws: Workspace, *args: str, expect: int = 0) -> str:
    return invoke(ws, "alerts", "send", *args, expect=expect).output


def state_files(ws: Workspace) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((ws.lake / "_state").rglob("*")) if p.is_file())


# -- payload schemas --------------------------------------------------------------------------


def check_slack(message: dict) -> None:
    assert set(message) == {"text", "blocks", "unfurl_links", "unfurl_media"}
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    header, summary, fields, *rest = message["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert 0 < len(header["text"]["text"]) <= 150
    assert header["text"]["text"].split(":")[0] in {s.upper() for s in SEVERITY_RANK}
    assert summary["type"] == "section" and summary["text"]["type"] == "mrkdwn"
    assert fields["type"] == "section" and len(fields["fields"]) <= 10
    labels = [f["text"].split("\n")[0] for f in fields["fields"]]
    assert labels == ["*Principal*", "*Source IP*", "*Account / region*", "*Events*",
                      "*First / last seen*", "*Status*"]  # fmt: skip
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in fields["fields"])
    actions, context = rest
    assert actions["type"] == "actions"
    assert actions["elements"][0]["url"].startswith("https://trailhouse.example.com/alerts/")
    assert context["type"] == "context"
    for text in mrkdwn_texts(message):
        assert "<" not in text and ">" not in text  # every value escaped: no link, no ping
    # and Slack is told not to turn a bare address or #channel in them into a link
    assert all(obj["verbatim"] is True for obj in mrkdwn_objects(message))


def mrkdwn_objects(message: dict) -> list[dict]:
    found = []
    for block in message["blocks"]:
        if block.get("text", {}).get("type") == "mrkdwn":
            found.append(block["text"])
        found += [f for f in block.get("fields", []) if f.get("type") == "mrkdwn"]
        found += [e for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return found


def mrkdwn_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        if block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def check_pagerduty(event: dict, alert: dict) -> None:
    assert event["routing_key"] == ROUTING_KEY
    assert event["dedup_key"] == alert["alert_id"]
    if event["event_action"] == "resolve":
        assert set(event) == {"routing_key", "event_action", "dedup_key"}
        return
    assert event["event_action"] == "trigger"
    payload = event["payload"]
    assert {"summary", "source", "severity", "timestamp", "custom_details"} <= set(payload)
    assert 0 < len(payload["summary"]) <= 1024 and alert["title"] in payload["summary"]
    assert payload["severity"] in {"critical", "error", "warning", "info"}
    expected_severity = {"critical": "critical", "high": "error", "medium": "warning"}
    assert payload["severity"] == expected_severity.get(alert["severity"], "info")
    assert payload["source"] == f"aws:{alert['account_id']}/{alert['aws_region']}"
    assert datetime.fromisoformat(payload["timestamp"]) == alert["last_seen_at"]
    assert payload["custom_details"]["alert_id"] == alert["alert_id"]
    assert payload["class"] == alert["detection_id"]
    assert "links" not in event  # no `link:` configured for this destination


# -- alerts send ------------------------------------------------------------------------------


def test_alerts_send_routes_each_alert_to_the_destinations_whose_filters_match(
    demo_lake: Workspace, tmp_path: Path, receivers
) -> None:
    hook, slack, pager = receivers(), receivers(), receivers()
    ws = routed_ws(demo_lake, tmp_path, hook.url, slack.url, pager.url)
    by_id = {a["alert_id"]: a for a in lake_alerts(ws)}
    wanted = {name: expected(ws, name) for name in ("everything", "soc-slack", "pager")}
    assert wanted["pager"] and wanted["soc-slack"] and wanted["soc-slack"] < set(by_id)

    dry = send(ws, "--dry-run")
    assert "Would send" in dry and hook.started == slack.started == pager.started == 0
    assert not list((ws.lake / "_state").rglob("*.json"))  # nothing queued, nothing recorded

    output = send(ws)
    webhook_alerts = hook.json()
    assert {a["alert_id"] for a in webhook_alerts} == wanted["everything"] == set(by_id)
    assert len(webhook_alerts) == len(by_id)  # each once
    for alert in webhook_alerts:  # the alert JSON, with its triage status
        assert alert["detection_id"] == by_id[alert["alert_id"]]["detection_id"]
        assert alert["status"] == "open" and isinstance(alert["event_ids"], list)

    messages = slack.json()
    assert len(messages) == len(wanted["soc-slack"])
    for message in messages:
        check_slack(message)
    titled = {m["blocks"][-1]["elements"][0]["text"].rsplit("alert ", 1)[1] for m in messages}
    assert titled == wanted["soc-slack"]

    events = pager.json()
    assert {e["dedup_key"] for e in events} == wanted["pager"] and len(events) == len(
        wanted["pager"]
    )
    for event in events:
        check_pagerduty(event, by_id[event["dedup_key"]])

    # secrets: never printed, never in the lake (outbox, ledgers)
    for secret in (SLACK_TOKEN, ROUTING_KEY, HOOK_TOKEN):
        assert secret not in output
        assert secret.encode() not in state_files(ws)
    assert "soc-slack" in output and "pagerduty" in output

    # idempotent: every version is in each destination's ledger
    again = send(ws)
    assert len(hook.bodies) == len(by_id) and len(slack.bodies) == len(messages)
    assert len(pager.bodies) == len(events)
    assert "already sent" in again

    # closing a paged alert resolves its incident (same dedup key); Slack and the webhook
    # are not told again (a close is not a new version of the alert for them)
    closed = sorted(wanted["pager"])[0]
    invoke(ws, "alerts", "close", closed, "--note", "benign")
    send(ws)
    assert len(hook.bodies) == len(by_id) and len(slack.bodies) == len(messages)
    resolve = pager.json()[-1]
    assert len(pager.bodies) == len(events) + 1
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": closed}
    check_pagerduty(resolve, by_id[closed])

    # --date: the alerts active that day only
    day = max(a["last_seen_at"] for a in by_id.values()).date()
    active = [
        a for a in by_id.values() if a["first_seen_at"].date() <= day <= a["last_seen_at"].date()
    ]
    dry = send(ws, "--dry-run", "--date", day.isoformat(), "--destination", "everything")
    assert f"Would send: {len(active):,} alert(s) considered" in dry and len(active) < len(by_id)

    # one destination only, since a day after every alert: nothing to send
    only = send(ws, "--destination", "soc-slack", "--since", "2027-01-01")
    assert "soc-slack" in only and "everything" not in only
    result = invoke(ws, "alerts", "send", "--destination", "nope", expect=2)
    assert "no destination named 'nope'" in result.output


def test_a_destination_down_or_failing_keeps_its_alerts_while_the_others_deliver(
    demo_lake: Workspace, tmp_path: Path, receivers
) -> None:
    hook, pager = receivers(), receivers()
    pager.statuses = [500] * 1000  # up, but failing every event
    ws = routed_ws(demo_lake, tmp_path, hook.url, closed_port_url(), pager.url)
    slack_wanted, pager_wanted = expected(ws, "soc-slack"), expected(ws, "pager")

    result = invoke(ws, "alerts", "send", expect=1)
    assert len(hook.bodies) == len(lake_alerts(ws))  # the webhook got every alert
    assert "unreachable" in result.output and "kept in the outbox" in result.output
    assert "HTTP 500" in result.output
    status = json.loads(invoke(ws, "status", "--json").output)
    by_destination = status["alert_delivery_by_destination"]
    assert by_destination["soc-slack"] == {"outbox": len(slack_wanted), "undelivered": 0}
    assert by_destination["pager"] == {"outbox": len(pager_wanted), "undelivered": 0}
    assert "everything" not in by_destination  # nothing left there
    assert status["alert_delivery"] == {
        "outbox": len(slack_wanted) + len(pager_wanted), "undelivered": 0,
    }  # fmt: skip

    # Slack is back (its URL now reaches a receiver), PagerDuty refuses (400): each alert
    # is delivered once, the refused ones are kept as undelivered, the webhook gets nothing new
    slack = receivers()
    ws = ws.with_env(SLACK_URL=f"{slack.url}/{SLACK_TOKEN}")
    pager.statuses = [400] * 1000
    result = invoke(ws, "alerts", "send", expect=1)
    assert len(hook.bodies) == len(lake_alerts(ws))
    assert len(slack.bodies) == len(slack_wanted)
    for message in slack.json():
        check_slack(message)
    status = json.loads(invoke(ws, "status", "--json").output)["alert_delivery_by_destination"]
    assert status["pager"] == {"outbox": 0, "undelivered": len(pager_wanted)}
    assert "soc-slack" not in status  # its outbox emptied
    kept = json.loads(
        next((ws.lake / "_state/watch/destinations/pager/undelivered").glob("*.json")).read_text()
    )
    assert kept["destination"] == "pager" and "HTTP 400" in kept["error"]
    assert ROUTING_KEY not in json.dumps(kept)
    assert "undelivered" in invoke(ws, "status").output

    # the receiver accepts again: --retry-undelivered sends them
    pager.statuses = []
    invoke(ws, "alerts", "send", "--retry-undelivered")
    assert {e["dedup_key"] for e in pager.json()} == pager_wanted


def test_ocsf_file_appends_each_alerts_finding_once(
    demo_lake: Workspace, tmp_path: Path, receiver: Received
) -> None:
    out = tmp_path / "siem" / "findings.jsonl"
    ws = configure(
        demo_lake.copy(tmp_path / "ws"),
        """
        destinations:
          - name: lake-findings
            type: ocsf_file
            path: PATH
            min_severity: high
          - name: hook
            type: webhook
            url: ${HOOK_URL}
        """.replace("PATH", str(out)),
        HOOK_URL=receiver.url,
    )
    invoke(ws, "config", "validate")
    alerts = lake_alerts(ws)
    closed = next(
        a["alert_id"] for a in alerts if a["severity"] == "critical" and not a["suppressed"]
    )
    invoke(ws, "alerts", "close", closed, "--note", "benign")
    invoke(ws, "alerts", "send")
    assert len(receiver.bodies) == len(alerts)  # the other destination delivers as before

    findings = [json.loads(line) for line in out.read_text().splitlines()]
    wanted = {a["alert_id"]: a for a in alerts if a["severity"] in ("high", "critical")}
    assert sorted(f["finding_info"]["uid"] for f in findings) == sorted(wanted)
    view = {
        row["uid"]: row
        for row in json.loads(
            invoke(ws, "query", 'select "finding_info.uid" as uid, "finding_info.title" as title, '
                   '"finding_info.analytic.uid" as detection_id, severity_id, "time" '
                   "from ocsf_detection_finding", "-o", "json").output
        )
    }  # fmt: skip
    for finding in findings:
        alert = wanted[finding["finding_info"]["uid"]]
        row = view[alert["alert_id"]]
        assert (finding["class_uid"], finding["category_uid"], finding["type_uid"]) == (
            2004, 2, 200401,
        )  # fmt: skip
        assert finding["activity_id"] == 1 and finding["time"] == row["time"]
        assert finding["severity_id"] == row["severity_id"] in (4, 5)
        assert finding["finding_info"]["title"] == row["title"] == alert["title"]
        assert finding["finding_info"]["analytic"]["uid"] == alert["detection_id"]
        assert finding["metadata"]["product"]["name"] == "trailhouse"
        assert "version" in finding["metadata"]
        # the triage status travels with it: the closed alert's finding is resolved
        expected_status = "Resolved" if alert["alert_id"] == closed else None
        if expected_status:
            assert (finding["status_id"], finding["status"]) == (4, expected_status)

    before = out.read_bytes()
    invoke(ws, "alerts", "send")
    assert out.read_bytes() == before  # nothing new: nothing appended
    # acknowledging an alert changes its finding's status: one more line, for it alone
    acked = next(a for a in wanted.values() if a["alert_id"] != closed and not a["suppressed"])[
        "alert_id"
    ]
    invoke(ws, "alerts", "ack", acked)
    invoke(ws, "alerts", "send")
    assert out.read_bytes().startswith(before)
    [line] = out.read_bytes()[len(before) :].splitlines()
    update = json.loads(line)
    assert update["finding_info"]["uid"] == acked
    assert (update["status_id"], update["status"]) == (2, "In Progress")
    assert not any((ws.lake / "_state/watch/destinations/lake-findings/outbox").glob("*.json"))
    watch = invoke(ws, "watch", "cloudtrail", "--bucket", "b", "--destination", "nope", expect=2)
    assert "no destination named 'nope' (configured: hook, lake-findings)" in watch.output


def test_ocsf_file_that_cannot_be_written_keeps_its_alerts(
    demo_lake: Workspace, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")
    ws = configure(
        demo_lake.copy(tmp_path / "ws"),
        """
        destinations:
          - name: findings
            type: ocsf_file
            path: PATH
            detections: ["aws-cloudtrail-*"]
        """.replace("PATH", str(blocker / "findings.jsonl")),
    )
    wanted = [a for a in lake_alerts(ws) if fnmatchcase(a["detection_id"], "aws-cloudtrail-*")]
    assert wanted
    result = invoke(ws, "alerts", "send", expect=1)
    assert "kept in the outbox" in result.output
    outbox = ws.lake / "_state/watch/destinations/findings/outbox"
    assert len(list(outbox.glob("*.json"))) == len(wanted)
    blocker.unlink()
    invoke(ws, "alerts", "send")
    assert not list(outbox.glob("*.json"))
    lines = (blocker / "findings.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["finding_info"]["uid"] for line in lines) == sorted(
        a["alert_id"] for a in wanted
    )


# -- ingest watch: the same routing --------------------------------------------------------------


def test_watch_routes_new_alerts_through_the_same_outboxes(
    demo_lake: Workspace, tmp_path: Path, receivers
) -> None:
    """The watch loop (in-process, nothing new to pull or build) routes the lake's alerts to
    every destination whose filters match; a restarted watch sends nothing twice, and a
    destination added later starts from the alerts already there (not news)."""
    from ingest import config

    hook, slack, pager = receivers(), receivers(), receivers()
    ws = routed_ws(demo_lake, tmp_path, hook.url, slack.url, pager.url)
    targets = destinations.from_config(
        config.load(Path(ws.env["TRAILHOUSE_CONFIG"]), ws.env), ws.env
    )
    lake = Lake.at(str(ws.lake))

    def watch(chosen, send_existing: bool) -> Watcher:
        senders = [routing.Sender(routing.Route.of(lake, d), backoff=0.01) for d in chosen]
        watcher = Watcher(lake, duckdb.connect(), PullSummary, ws.root, [], senders,
                          send_existing=send_existing)  # fmt: skip
        report = watcher.cycle()
        for sender in senders:
            sender.close()
        assert report.errors == [] and not report.built
        return watcher

    watch(targets[:2], send_existing=True)
    assert {a["alert_id"] for a in hook.json()} == expected(ws, "everything")
    assert len(slack.bodies) == len(expected(ws, "soc-slack"))
    watch(targets[:2], send_existing=False)  # a restart
    assert len(hook.bodies) == len(expected(ws, "everything"))
    watch(targets, send_existing=False)  # the pager is new: the lake's alerts are its baseline
    assert pager.bodies == []
    assert (ws.lake / "_state/watch/destinations/pager/sent.parquet").exists()


# -- formats and config ----------------------------------------------------------------------


def test_hostile_alert_text_is_escaped_for_slack(demo_lake: Workspace) -> None:
    """An alert from the lake whose title, summary and principal carry Slack control syntax:
    no mention, link or channel ping survives in any mrkdwn text."""
    alert = json.loads(json.dumps(lake_alerts(demo_lake)[0], default=str))
    alert.update(title=HOSTILE, summary=f"{HOSTILE} & more https://evil.example/reset #general",
                 principal_arn="<@U123>",
                 source_ip_address="<https://evil.example|1.2.3.4>")  # fmt: skip
    target = destinations.Destination("s", "slack", endpoint="http://127.0.0.1/x")
    message = json.loads(destinations.slack_body(target, alert))
    texts = mrkdwn_texts(message)
    joined = "\n".join(texts)
    assert "<!channel>" not in joined and "<http" not in joined and "<@U123>" not in joined
    assert "&lt;!channel&gt; *x* &lt;http://evil|y&gt;" in message["text"]
    assert "&lt;!channel&gt; *x* &lt;http://evil|y&gt; &amp; more" in joined
    assert "&lt;@U123&gt;" in joined
    # a bare address or channel name is text, not a link: every mrkdwn object is verbatim
    assert "https://evil.example/reset #general" in joined
    assert all(obj["verbatim"] is True for obj in mrkdwn_objects(message))
    # the header is plain_text, which Slack never parses for mentions or links
    header = {"type": "plain_text", "text": f"{alert['severity'].upper()}: {HOSTILE}"}
    assert message["blocks"][0]["text"] == header
    # long values are cut without splitting an escape
    long = destinations.mrkdwn("<" * 1000, 2000)
    assert len(long) <= 2000 and long.endswith("…") and long[:-1].replace("&lt;", "") == ""


def test_a_failed_append_to_the_ocsf_file_is_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills in the middle of a line leaves the file as it was, never half a line
    for the retry to write after."""
    target = destinations.Destination("f", "ocsf_file", path=str(tmp_path / "f.jsonl"))
    destinations.append_line(target, b'{"a": 1}\n', 1, 0)
    write = os.write

    def half_then_full(fd: int, data: memoryview) -> int:
        write(fd, bytes(data[:3]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(destinations.os, "write", half_then_full)
    with pytest.raises(DeliveryError, match="No space left on device"):
        destinations.append_line(target, b'{"b": 2}\n', 1, 0)
    assert (tmp_path / "f.jsonl").read_bytes() == b'{"a": 1}\n'


def test_destination_config_errors_are_named_by_line(workspace: Workspace) -> None:
    ws = configure(
        workspace,
        """
        destinations:
          - name: Bad Name!
            type: webhook
            url: ${HOOK_URL}
          - name: pager
            type: pagerduty
          - name: teams
            type: email
            url: ${HOOK_URL}
          - name: slack
            type: slack
            url: ${HOOK_URL}
            min_severity: urgent
            colour: red
        """,
        HOOK_URL="http://127.0.0.1:9/x",
    )
    result = invoke(ws, "config", "validate", expect=2)
    lines = result.output
    assert "trailhouse.yml:3: destinations.0.name: 'Bad Name!' does not match" in lines
    assert "trailhouse.yml:6: destinations.1: 'routing_key' is a required property" in lines
    assert "trailhouse.yml:9: destinations.2.type: 'email' is not one of" in lines
    assert "trailhouse.yml:14: destinations.3.min_severity: 'urgent' is not one of" in lines
    assert "trailhouse.yml:11: destinations.3: unknown key: 'colour'" in lines

    ws = configure(
        workspace,
        """
        watch:
          webhook: ${HOOK_URL}
        destinations:
          - name: slack
            type: slack
            url: https://hooks.slack.com/services/T000/B000/inline-secret
          - name: webhook
            type: webhook
            url: ${HOOK_URL}
          - name: slack
            type: webhook
            url: ${UNSET_HOOK_URL}
            routing_key: ${HOOK_URL}
          - name: pager
            type: pagerduty
            routing_key: ${PD_KEY}
            events_url: ftp://127.0.0.1/enqueue
            path: /tmp/x
        """,
        HOOK_URL="http://127.0.0.1:9/x",
        PD_KEY="k",
    )
    lines = invoke(ws, "config", "validate", expect=2).output
    assert "trailhouse.yml:7: destinations.0.url: a URL is a secret: write ${NAME}" in lines
    assert "inline-secret" not in lines
    assert (
        "trailhouse.yml:8: destinations.1.name: a second destination named 'webhook' "
        "(watch.webhook is the destination `webhook`)" in lines
    )
    assert "trailhouse.yml:11: destinations.2.name: a second destination named 'slack'" in lines
    assert "trailhouse.yml:13: destinations.2.url: ${UNSET_HOOK_URL} is not set" in lines
    assert "trailhouse.yml:14: destinations.2.routing_key: not a setting of a webhook" in lines
    assert "trailhouse.yml:18: destinations.3.events_url: not an http(s) URL" in lines
    assert "trailhouse.yml:19: destinations.3.path: not a setting of a pagerduty" in lines

    # `webhook` is the watch.webhook destination's name (and outbox) even when it is not set;
    # a URL with a space would make http.client quote it, token and all, in its error
    ws = configure(
        workspace,
        """
        destinations:
          - name: webhook
            type: slack
            url: ${SLACK_URL}
          - name: hook
            type: webhook
            url: ${SPACED_URL}
        """,
        SLACK_URL="http://127.0.0.1:9/x",
        SPACED_URL="http://127.0.0.1:9/services/T0/B0/SECRET TOKEN",
    )
    lines = invoke(ws, "config", "validate", expect=2).output
    assert "trailhouse.yml:3: destinations.0.name: 'webhook' is reserved for watch.webhook" in lines
    assert "trailhouse.yml:8: destinations.1.url: whitespace or control characters" in lines
    assert "SECRET" not in lines
