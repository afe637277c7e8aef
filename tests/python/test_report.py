"""`ingest report`: the static HTML report, on a built demo lake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_detections import DEMO_EXPECTED

from conftest import Workspace, invoke, run_ingest

pytestmark = pytest.mark.e2e

SECTION = re.compile(
    r'<section id="(?P<key>[a-z0-9_]+)" data-analysis="(?P<analysis>[a-z0-9_]+)"\s+'
    r"data-vars='(?P<vars>[^']*)'>.*?"
    r'<script type="application/json" id="data-(?P=key)">(?P<rows>.*?)</script>',
    re.S,
)


def sections(page: Path) -> dict[str, dict]:
    found = {}
    for match in SECTION.finditer(page.read_text()):
        variables = json.loads(match["vars"])
        found[match["key"]] = {
            "analysis": match["analysis"],
            "vars": variables,
            "rows": json.loads(match["rows"]),
        }
    return found


def report(ws: Workspace, out: Path, *args: str) -> Path:
    output = run_ingest(ws, "report", "--out", str(out), *args)
    assert "open alert(s)" in output
    return out


def query_rows(ws: Workspace, analysis: str, variables: dict, *args: str) -> list[dict]:
    pairs = [f"--var={k}={v}" for k, v in variables.items()]
    return json.loads(run_ingest(ws, "query", analysis, "-o", "json", *pairs, *args))


def test_every_number_is_the_analysis_ingest_query_runs(
    demo_lake: Workspace, tmp_path: Path
) -> None:
    out = report(demo_lake, tmp_path / "all")
    found = sections(out / "index.html")
    assert len(found) == 13
    for key, section in found.items():
        assert section["rows"] == query_rows(demo_lake, section["analysis"], section["vars"]), key
    # the charts are drawn from those rows: the stacked bars hold every day's alerts
    total = sum(r["alerts"] for r in found["alerts_by_day"]["rows"])
    assert total == len(found["open_alerts"]["rows"]) > 0


def test_every_demo_scenario_has_its_open_alert(demo_lake: Workspace, tmp_path: Path) -> None:
    rows = sections(report(demo_lake, tmp_path / "all") / "index.html")["open_alerts"]["rows"]
    assert set(DEMO_EXPECTED.values()) <= {r["detection_id"] for r in rows}


def test_drill_down_pages_exist_for_every_link_and_nothing_is_fetched(
    demo_lake: Workspace, tmp_path: Path
) -> None:
    out = report(demo_lake, tmp_path / "all")
    index = (out / "index.html").read_text()
    links = set(re.findall(r'href="((?:principals|ips)/[^"#]+)"', index))
    # every event of an open alert links to its row on the principal's page
    anchors = re.findall(r'href="(principals/[^"#]+)#(event-[^"]+)"', index)
    assert anchors
    for page, anchor in anchors:
        assert f'id="{anchor}"' in (out / page).read_text(), (page, anchor)
    assert any(link.startswith("principals/") for link in links)
    assert any(link.startswith("ips/") for link in links)
    for link in links:
        page = out / link
        assert page.is_file(), link
        timeline = sections(page)["timeline"]["rows"]
        assert timeline, f"{link} shows no events"
    for page in [out / "index.html", *out.glob("*/*.html")]:
        text = page.read_text()
        # no network at view time: every script is the local plotly.js
        assert re.findall(r'<script src="([^"]+)"', text) in (
            ["plotly.min.js"],
            ["../plotly.min.js"],
        )
        assert "cdn." not in text
    assert (out / "plotly.min.js").stat().st_size > 1_000_000


def test_a_day_report_holds_that_day_only(demo_lake: Workspace, tmp_path: Path) -> None:
    everything = sections(report(demo_lake, tmp_path / "all") / "index.html")
    days = sorted({r["alert_date"] for r in everything["alerts_by_day"]["rows"]})
    day = days[-1]
    one_day = sections(report(demo_lake, tmp_path / "day", "--day", day) / "index.html")
    assert {r["alert_date"] for r in one_day["alerts_by_day"]["rows"]} == {day}
    assert one_day["open_alerts"]["rows"] == query_rows(
        demo_lake, "open_alerts", {}, "--from", day, "--to", day
    )
    assert len(one_day["open_alerts"]["rows"]) < len(everything["open_alerts"]["rows"])


def test_alerts_show_their_triage_status_and_filter_by_it(
    demo_lake: Workspace, tmp_path: Path
) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    rows = sections(report(ws, tmp_path / "before") / "index.html")["open_alerts"]["rows"]
    acked, closed = rows[0]["alert_id"], rows[1]["alert_id"]
    invoke(ws, "alerts", "ack", acked, "--assignee", "<b>eve</b>")
    invoke(ws, "alerts", "close", closed, "--note", "benign")

    output = run_ingest(ws, "report", "--out", str(tmp_path / "after"))
    assert f"{len(rows) - 2} open alert(s) (1 acknowledged, 1 closed)" in output
    index = (tmp_path / "after" / "index.html").read_text()
    after = sections(tmp_path / "after" / "index.html")["open_alerts"]
    assert after["rows"] == rows  # the analysis' rows, whatever their status
    embedded = re.search(r'id="triage-open_alerts">(.*?)</script>', index, re.S)[1]
    assert json.loads(embedded) == {
        row["alert_id"]: {k: row[k] for k in ("status", "status_reason", "assignee")}
        for row in json.loads(
            run_ingest(
                ws,
                "query",
                "select alert_id, status, status_reason, assignee from alerts_triaged "
                "where status <> 'open' or assignee is not null",
                "-o",
                "json",
            )
        )
    }
    table = index.split('id="open_alerts"')[1].split("</table>")[0]
    statuses = re.findall(r'<tr data-status="([a-z]+)"', table)
    assert len(statuses) == len(rows)
    assert statuses.count("acknowledged") == statuses.count("closed") == 1
    # the assignee is text, and the filter starts with closed alerts hidden
    assert "&lt;b&gt;eve&lt;/b&gt;" in table and "<b>eve" not in index
    assert re.search(r'value="closed">\s*closed \(1\)', index)
    assert re.search(r'value="open" checked>\s*open \(\d+\)', index)


def test_report_refuses_a_lake_without_alerts(workspace: Workspace) -> None:
    result = invoke(workspace, "report", "--out", workspace.root / "r", expect=1)
    assert "nothing to report" in result.output
