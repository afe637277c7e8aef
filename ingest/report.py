"""`ingest report`: a static HTML report of the lake that opens without a network.

Every number comes from an analysis in `analyses/` (the same SQL `ingest query NAME` runs, over
the same dataset views and time range), so a chart can be checked against the query. Each
section's rows are also embedded in its page as JSON (`<script type="application/json">`), for
tests and for anyone who wants the data behind a chart. Charts are Plotly figures; plotly.js is
written once next to the pages (`plotly.min.js`), so the report works from disk, offline.

Pages: `index.html` (alerts over time, alerts with their triage status, ATT&CK tactic x
technique heatmap, top
principals/APIs/addresses/countries, failed calls, console logins, changes to IAM, S3, security
groups and logging) and one drill-down page per principal and per source address that appears
in the alerts or the top lists (`principals/<name>.html`, `ips/<address>.html`).

Alert tables show each alert's triage `status` and `assignee` (the `alerts_triaged` view,
ingest.triage) next to the analysis' columns, and a reader filters them by status with
checkboxes that work by CSS alone (no script, no network); closed alerts start hidden. The
status is embedded beside the rows (`triage-<section>`), so the rows stay exactly what the
analysis returns.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2
from markupsafe import Markup, escape

from ingest import coverage, triage
from ingest import query as lake_query

SEVERITIES = ["critical", "high", "medium", "low", "info"]
SEVERITY_COLORS = {
    "critical": "#7b1e1e", "high": "#c0392b", "medium": "#e67e22", "low": "#f1c40f",
    "info": "#95a5a6",
}  # fmt: skip
# What an alert without triage rows is; the statuses a report shows before a reader chooses.
OPEN = {"status": "open", "status_reason": None, "assignee": None}
SHOWN_AT_FIRST = ("open", "acknowledged")
DRILL_DOWN_LIMIT = 50  # pages per kind: the principals and addresses analysts look at first


@dataclass
class Section:
    """One analysis on a page: its rows, and how they are shown."""

    key: str
    title: str
    analysis: str
    variables: dict[str, str] = field(default_factory=dict)
    columns: list[str] | None = None  # None: every column
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: str = ""  # HTML of the chart, if any
    # alert_id → its triage (status, status_reason, assignee), for sections listing alerts
    triage: dict[str, dict[str, Any]] | None = None

    def shown_rows(self) -> list[dict[str, Any]]:
        """The rows as the table shows them: with their triage, when the section has one."""
        if self.triage is None:
            return self.rows
        return [{**row, **self.triage.get(row["alert_id"], OPEN)} for row in self.rows]

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(triage.STATUSES, 0)
        for row in self.shown_rows():
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts


@dataclass
class Report:
    out: Path
    pages: list[Path]
    sections: dict[str, Section]
    principals: list[str]
    addresses: list[str]


def _run(con: duckdb.DuckDBPyConnection, project: Path, analysis: str, variables: dict) -> list:
    sql, _ = lake_query.resolve_query(analysis, project)
    cursor = con.execute(lake_query.render(sql, variables))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json(rows: list[dict[str, Any]]) -> str:
    """Rows as JSON to embed in a <script> element: `<`, `>` and `&` (inside strings, the only
    place JSON text has them) as \\u escapes, so no value can close the element or open a
    comment, whatever the lake holds."""
    text = b"[" + b",".join(lake_query.to_json(row) for row in rows) + b"]"
    return text.decode().translate(_SCRIPT_SAFE)


_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _label(value: Any) -> str:
    """A chart label from the lake: Plotly reads `<b>`, `<a href>` and entities in labels, so
    the text is entity-escaped and shows as written."""
    return html.escape(str(value), quote=False)


def slug(value: str) -> str:
    """A file name for a principal or address: readable, unique, never a path."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._")[:60] or "x"
    return f"{readable}-{hashlib.sha1(value.encode()).hexdigest()[:8]}"


# -- charts ------------------------------------------------------------------------------------


def _figure_html(figure: Any, key: str, height: int = 320) -> str:
    figure.update_layout(
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        height=height,
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{key}",
        config={"displaylogo": False, "responsive": True},
    )


def alerts_chart(rows: list[dict]) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for severity in SEVERITIES:
        points = [r for r in rows if r["severity"] == severity]
        if points:
            figure.add_bar(
                name=severity,
                x=[str(r["alert_date"]) for r in points],
                y=[r["alerts"] for r in points],
                marker_color=SEVERITY_COLORS[severity],
            )
    figure.update_layout(
        barmode="stack",
        yaxis_title="alerts",
        xaxis={"type": "category", "categoryorder": "category ascending"},
    )
    return _figure_html(figure, "alerts_by_day")


def bar_chart(rows: list[dict], label: str, value: str, key: str) -> str:
    import plotly.graph_objects as go

    top = rows[:15][::-1]
    figure = go.Figure(
        go.Bar(
            x=[r[value] for r in top],
            y=[_label(r[label]) for r in top],
            orientation="h",
            marker_color="#2f4858",
        )
    )
    figure.update_layout(xaxis_title=value.replace("_", " "))
    return _figure_html(figure, key)


def attack_heatmap(hits: list[dict], catalog: list[coverage.Detection]) -> str:
    """Tactic x technique: how many detections cover each pair (text) and how many alerts
    fired on it (colour)."""
    import plotly.graph_objects as go

    covered: dict[tuple[str, str], int] = {}
    for detection in catalog:
        for tactic in detection.tactics:
            for technique in detection.techniques:
                covered[(tactic, technique)] = covered.get((tactic, technique), 0) + 1
    fired = {(r["tactic"], r["technique"]): r["alerts"] for r in hits}
    tactics = sorted({t for t, _ in covered | fired}, key=coverage._tactic_key)
    techniques = sorted({t for _, t in covered | fired})
    # a pair no detection covers is left blank (grey); a covered pair is coloured by alerts
    z = [
        [
            fired.get((ta, te), 0) if (ta, te) in covered or (ta, te) in fired else None
            for ta in tactics
        ]
        for te in techniques
    ]
    text = [
        [
            f"{fired.get((ta, te), 0)} alert(s) · {covered.get((ta, te), 0)} detection(s)"
            if (ta, te) in covered or (ta, te) in fired
            else ""
            for ta in tactics
        ]
        for te in techniques
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=tactics,
            y=techniques,
            text=text,
            hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
            colorscale="Reds",
            showscale=True,
            xgap=1,
            ygap=1,
        )
    )
    figure.update_layout(plot_bgcolor="#e5e7eb")
    return _figure_html(figure, "attack", height=max(320, 16 * len(techniques) + 120))


# -- pages -------------------------------------------------------------------------------------

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["json"] = _json
_ENV.filters["json_object"] = lambda value: (
    lake_query.to_json(value).decode().translate(_SCRIPT_SAFE)
)
_ENV.filters["slug"] = slug

_PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<script src="{{ root }}plotly.min.js"></script>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
header { background: #2f4858; color: #fff; padding: 10px 20px; }
header a { color: #cfe3ec; }
main { padding: 12px 20px; max-width: 1320px; }
section { background: #fff; border: 1px solid #dde; border-radius: 6px; margin: 12px 0;
          padding: 8px 14px; }
h1 { font-size: 20px; margin: 4px 0; } h2 { font-size: 16px; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f2f5; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; }
.scroll { max-height: 360px; overflow: auto; }
.sev { padding: 1px 6px; border-radius: 3px; color: #fff; font-size: 11px; }
{% for name, colour in colours.items() %}.sev-{{ name }} { background: {{ colour }}; }
{% endfor %}
.empty { color: #777; font-style: italic; }
.status-filter { border: 0; padding: 2px 0 6px; margin: 0; }
.status-filter label { margin-right: 12px; }
{% for status in statuses %}section:has(.status-filter input[value="{{ status }}"]:not(:checked))
  tr[data-status="{{ status }}"] { display: none; }
{% endfor %}
</style></head>
<body>
<header><h1>{{ title }}</h1>
<div>{{ subtitle }} · <a href="{{ root }}index.html">report</a>
{%- if docs %} · <a href="{{ docs }}">schema and detection catalog (dbt docs)</a>{% endif %}</div>
</header>
<main>
{% for section in sections %}
<section id="{{ section.key }}" data-analysis="{{ section.analysis }}"
 data-vars='{{ section.variables | tojson }}'><h2>{{ section.title }}</h2>
<script type="application/json" id="data-{{ section.key }}">
{{- section.rows | json | safe -}}
</script>
{% if section.triage is not none %}<script type="application/json" id="triage-{{ section.key }}">
{{- section.triage | json_object | safe -}}
</script>
<fieldset class="status-filter"><legend>Show alerts that are</legend>
{% for status, count in section.status_counts().items() %}<label><input type="checkbox"
 value="{{ status }}"{% if status in shown_at_first %} checked{% endif %}>
 {{ status }} ({{ count }})</label>
{% endfor %}</fieldset>{% endif %}
{% if section.chart %}<div class="chart">{{ section.chart | safe }}</div>{% endif %}
{% if section.columns != [] %}{{ table(section) }}{% endif %}
</section>
{% endfor %}
</main></body></html>
"""
)

_TABLE = _ENV.from_string(
    """{% if not rows %}<p class="empty">Nothing in this range.</p>{% else %}
<div class="scroll"><table data-rows="{{ rows | length }}"><thead><tr>
{% for column in columns %}<th>{{ column }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}{% set event_id = row.get('event_id') %}
<tr{% if event_id %} id="event-{{ event_id }}"{% endif %}
{%- if row.get('status') %} data-status="{{ row['status'] }}"{% endif %}>
{% for column in columns %}<td>{{ cell(column, row) }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% endif %}"""
)


def _cell_renderer(root: str, principals: set[str], addresses: set[str]) -> Callable:
    def cell(column: str, row: dict) -> Any:
        value = row.get(column)
        if value is None:
            return ""
        if column == "severity":
            return Markup(f'<span class="sev sev-{escape(value)}">{escape(value)}</span>')
        if column == "status" and row.get("status_reason"):
            return f"{value} ({row['status_reason']})"
        if column == "event_ids" and row.get("principal_arn") in principals:
            # each event, on the principal's page (its timeline rows are anchored by id)
            page = f"{root}principals/{slug(row['principal_arn'])}.html"
            return Markup(", ").join(
                Markup(f'<a href="{escape(page)}#event-{escape(e)}">{escape(e[:8])}</a>')
                for e in value
            )
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        target = None
        if column in ("principal_arn", "principal_name") and text in principals:
            target = f"{root}principals/{slug(text)}.html"
        elif column in ("source_ip_address", "source_ip") and text in addresses:
            target = f"{root}ips/{slug(text)}.html"
        if target:
            return Markup(f'<a href="{escape(target)}">{escape(text)}</a>')
        return text

    return cell


def _write(
    path: Path,
    title: str,
    subtitle: str,
    sections: list[Section],
    root: str,
    docs: str | None,
    principals: set[str],
    addresses: set[str],
) -> Path:
    cell = _cell_renderer(root, principals, addresses)

    def table(section: Section) -> Any:
        rows = section.shown_rows()
        columns = section.columns or (list(rows[0]) if rows else [])
        return Markup(_TABLE.render(rows=rows, columns=columns, cell=cell))

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        _PAGE.render(
            title=title,
            subtitle=subtitle,
            sections=sections,
            root=root,
            docs=docs,
            colours=SEVERITY_COLORS,
            statuses=triage.STATUSES,
            shown_at_first=SHOWN_AT_FIRST,
            table=table,
        )
    )
    return path


def build(
    con: duckdb.DuckDBPyConnection,
    project: Path,
    out: Path,
    since: date | None,
    until: date | None,
    docs: str | None = None,
) -> Report:
    """Render the report into `out` from the dataset views already registered on `con`."""
    from plotly.offline import get_plotlyjs

    out.mkdir(parents=True, exist_ok=True)
    (out / "plotly.min.js").write_text(get_plotlyjs())
    catalog = coverage.load(project)

    def section(key: str, title: str, analysis: str, **kwargs: Any) -> Section:
        s = Section(key, title, analysis, **kwargs)
        s.rows = _run(con, project, analysis, s.variables)
        return s

    sections = [
        section("alerts_by_day", "Alerts over time, by severity", "alerts_by_day", columns=[]),
        section(
            "open_alerts",
            "Alerts (not suppressed), by triage status",
            "open_alerts",
            columns=[
                "severity",
                "status",
                "assignee",
                "title",
                "summary",
                "principal_arn",
                "source_ip_address",
                "account_id",
                "first_seen_at",
                "last_seen_at",
                "event_count",
                "event_ids",
                "mitre_techniques",
            ],
        ),
        section(
            "attack",
            "ATT&CK: alerts by tactic and technique (colour), with the detections "
            "that cover each pair",
            "attack_technique_hits",
            columns=[],
        ),
        section("top_principals", "Top principals", "top_principals"),
        section("top_api_calls", "Top API calls", "top_api_calls", variables={"top": "20"}),
        section(
            "top_source_ips",
            "Top source addresses",
            "activity_by_source_ip",
            columns=[
                "source_ip_address",
                "source_ip_class",
                "source_country",
                "calls",
                "principals",
                "failed_calls",
                "last_seen_at",
            ],
        ),
        section("top_countries", "Top source countries", "top_source_countries"),
        section("failed_calls", "Failed and unauthorized calls", "failed_calls_by_principal"),
        section("console_logins", "Console sign-ins (MFA or not)", "console_logins"),
        section("iam_changes", "Changes to IAM", "iam_changes"),
        section(
            "s3_policy_changes", "Changes to S3 bucket policies and access", "s3_policy_changes"
        ),
        section("security_group_changes", "Changes to security groups", "security_group_changes"),
        section(
            "logging_changes", "Changes to logging (CloudTrail tampering)", "cloudtrail_tampering"
        ),
    ]
    by_key = {s.key: s for s in sections}
    statuses = _triage(con)
    alerts_section = by_key["open_alerts"]
    alerts_section.triage = _for_rows(statuses, alerts_section.rows)
    by_key["alerts_by_day"].chart = alerts_chart(by_key["alerts_by_day"].rows)
    by_key["attack"].chart = attack_heatmap(by_key["attack"].rows, catalog)
    for key, label, value in [
        ("top_principals", "principal_name", "calls"),
        ("top_api_calls", "event_name", "calls"),
        ("top_source_ips", "source_ip_address", "calls"),
        ("top_countries", "country", "calls"),
    ]:
        by_key[key].chart = bar_chart(by_key[key].rows, label, value, key)

    # Drill-down pages: whoever and wherever the alerts and the top lists point at.
    principals = _first_unique(
        [r["principal_arn"] for r in by_key["open_alerts"].rows]
        + [r["principal_arn"] for r in by_key["top_principals"].rows]
    )
    # service names ("config.amazonaws.com") are not addresses: they get no page
    addresses = _first_unique(
        [
            value
            for value in [r["source_ip_address"] for r in by_key["open_alerts"].rows]
            + [r["source_ip_address"] for r in by_key["top_source_ips"].rows]
            if _address(value)
        ]
    )
    principal_set, address_set = set(principals), set(addresses)
    span = _span(since, until)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pages = [
        _write(
            out / "index.html",
            "trailhouse report",
            f"{span} · generated {generated}",
            sections,
            "",
            docs,
            principal_set,
            address_set,
        )
    ]
    # per kind of drill-down page: folder, alerts column, analysis and its variable, heading
    kinds = [
        ("principals", "principal_arn", "principal_timeline", "principal", "Everything {} did"),
        ("ips", "source_ip_address", "ip_timeline", "ip", "Everything from {}"),
    ]
    for (folder, column, analysis, variable, heading), values in zip(
        kinds, [principals, addresses], strict=True
    ):
        for value in values:
            # the ips columns hold addresses normalized
            argument = (_address(value) if folder == "ips" else value) or value
            timeline = section(
                "timeline", heading.format(value), analysis, variables={variable: argument}
            )
            alerts = Section("alerts", "Alerts", "open_alerts", columns=alerts_section.columns)
            alerts.rows = [r for r in alerts_section.rows if r[column] == value]
            alerts.triage = _for_rows(statuses, alerts.rows)
            pages.append(
                _write(
                    out / folder / f"{slug(value)}.html",
                    value,
                    span,
                    [alerts, timeline],
                    "../",
                    docs,
                    principal_set,
                    address_set,
                )
            )
    return Report(out, pages, by_key, principals, addresses)


def _triage(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Every triaged alert's current status (ingest.triage's one definition of it)."""
    cursor = con.execute(
        f"select alert_id, status, status_reason, assignee from {triage.VIEW} "
        "where status <> 'open' or status_reason is not null or assignee is not null"
    )
    return {
        alert_id: {"status": status, "status_reason": reason, "assignee": assignee}
        for alert_id, status, reason, assignee in cursor.fetchall()
    }


def _for_rows(statuses: dict[str, dict[str, Any]], rows: list[dict]) -> dict[str, dict]:
    return {r["alert_id"]: statuses[r["alert_id"]] for r in rows if r["alert_id"] in statuses}


def _address(value: str | None) -> str | None:
    """The address in the lake's normalized form (what the `ips` columns hold), or None."""
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _first_unique(values: list[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen and len(seen) < DRILL_DOWN_LIMIT:
            seen[value] = None
    return list(seen)


def _span(since: date | None, until: date | None) -> str:
    if since is None and until is None:
        return "the whole lake"
    if since == until:
        return f"{since}"
    return f"{since or 'the beginning'} to {until or 'now'}"
