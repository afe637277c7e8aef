"""Where alerts go: the `destinations:` of trailhouse.yml, their filters, and one body format
per destination type.

    destinations:
      - name: soc-slack
        type: slack                      # webhook | slack | pagerduty | ocsf_file
        url: ${SLACK_WEBHOOK_URL}        # a secret: always a reference to the environment
        min_severity: high
        detections: ["aws-iam-*", "aws-cloudtrail-tampering"]
        exclude_detections: ["aws-iam-access-key-old"]
        link: https://trailhouse.example.com/alerts/

`watch.webhook` (and `ingest watch --webhook`) is one more destination, of type webhook, named
`webhook`. A destination's URL or routing key is resolved from the environment when the
destination is built, kept out of `repr`, and only ever shown as `redacted(url)`; the outbox
stores alerts, never bodies, so no file in the lake holds a secret.

Alert data is hostile: every value that reaches Slack is escaped for mrkdwn (`&`, `<`, `>`: a
title of `<!channel>` must not ping a channel, `<http://evil|here>` must not become a link).
"""

from __future__ import annotations

import fcntl
import fnmatch
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from ingest.delivery import DeliveryError, check_url, post, redacted
from ingest.lake import Lake
from ingest.ocsf import attach_findings
from ingest.outbox import LEGACY

TYPES = ("webhook", "slack", "pagerduty", "ocsf_file")
SEVERITIES = ("info", "low", "medium", "high", "critical")  # lowest first
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_ENV = re.compile(r"\$\{[A-Z_][A-Z0-9_]*\}")
# the key that holds each type's secret
SECRET_KEY = {"webhook": "url", "slack": "url", "pagerduty": "routing_key"}
# the settings each type takes, beyond name, type and the filters
_KEYS = {
    "webhook": {"url", "link"},
    "slack": {"url", "link"},
    "pagerduty": {"routing_key", "events_url", "link"},
    "ocsf_file": {"path"},
}
_TYPE_KEYS = set().union(*_KEYS.values())


@dataclass(frozen=True)
class Destination:
    name: str
    type: str
    # webhook, slack: the URL; pagerduty: the events URL. Secrets: never in repr or output.
    endpoint: str = field(default="", repr=False)
    routing_key: str = field(default="", repr=False)
    path: str = ""  # ocsf_file
    link: str = ""
    min_severity: str | None = None
    detections: tuple[str, ...] = ()
    exclude_detections: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """The endpoint as it may be printed or stored."""
        return self.path if self.type == "ocsf_file" else redacted(self.endpoint)

    def matches(self, alert: dict[str, Any]) -> bool:
        """Whether the alert passes this destination's severity and detection filters."""
        if self.min_severity is not None:
            rank = SEVERITIES.index(alert["severity"]) if alert.get("severity") in SEVERITIES else 0
            if rank < SEVERITIES.index(self.min_severity):
                return False
        detection = str(alert.get("detection_id") or "")
        if self.detections and not any(fnmatch.fnmatchcase(detection, g) for g in self.detections):
            return False
        return not any(fnmatch.fnmatchcase(detection, g) for g in self.exclude_detections)


def webhook(url: str) -> Destination:
    """`watch.webhook` / `--webhook`: every alert, the alert JSON."""
    return Destination(LEGACY, "webhook", endpoint=url)


def from_config(config: Any, environ: dict[str, str] | None = None) -> list[Destination]:
    """The destinations of a loaded config (`ingest.config.load` has checked them), with
    `watch.webhook` first when set; secrets resolved from the environment."""
    from ingest.config import resolve

    found = []
    if (config.watch or {}).get("webhook"):
        found.append(webhook(resolve(config.watch["webhook"], environ)))
    for spec in config.destinations:
        endpoint = {
            "webhook": spec.get("url"),
            "slack": spec.get("url"),
            "pagerduty": spec.get("events_url", PAGERDUTY_EVENTS_URL),
        }.get(spec["type"], "")
        found.append(
            Destination(
                name=spec["name"],
                type=spec["type"],
                endpoint=resolve(endpoint, environ),
                routing_key=resolve(spec.get("routing_key", ""), environ),
                path=resolve(spec.get("path", ""), environ),
                link=resolve(spec.get("link", ""), environ),
                min_severity=spec.get("min_severity"),
                detections=tuple(spec.get("detections") or ()),
                exclude_detections=tuple(spec.get("exclude_detections") or ()),
            )
        )
    return found


def check(
    destinations: list[dict[str, Any]],
    watch: dict[str, Any],
    environ: dict[str, str],
    place: Callable[[tuple], str],
) -> list[str]:
    """What is wrong with `destinations:` beyond its shape (the schema checked that): names
    used twice, secrets written inline, URLs that are not http(s)."""
    from ingest.config import resolve

    problems = []
    legacy = watch.get("webhook")
    if legacy and _ENV.fullmatch(legacy) and _resolvable(legacy, environ):
        problem = check_url(resolve(legacy, environ))
        if problem:
            problems.append(f"{place(('watch', 'webhook'))}: {problem}")
    seen = {LEGACY} if legacy else set()
    for index, spec in enumerate(destinations):
        where = ("destinations", index)
        name = spec["name"]
        if name == LEGACY and not legacy:
            # its outbox is the one older versions (and `--webhook`) use
            problems.append(
                f"{place((*where, 'name'))}: {LEGACY!r} is reserved for watch.webhook "
                "(`--webhook`): choose another name"
            )
        elif name in seen:
            also = " (watch.webhook is the destination `webhook`)" if name == LEGACY else ""
            problems.append(f"{place((*where, 'name'))}: a second destination named {name!r}{also}")
        seen.add(name)
        key = SECRET_KEY.get(spec["type"])
        if key and key in spec and not _ENV.fullmatch(spec[key]):
            problems.append(
                f"{place((*where, key))}: {'a URL' if key == 'url' else 'a routing key'} is a "
                "secret: write ${NAME} here and set NAME in the environment"
            )
        for other in sorted(_TYPE_KEYS - _KEYS[spec["type"]]):
            if other in spec:
                problems.append(f"{place((*where, other))}: not a setting of a {spec['type']}")
        for url_key in ("url", "events_url", "link"):
            value = spec.get(url_key)
            if value is None or (_ENV.search(value) and not _resolvable(value, environ)):
                continue  # an unset variable is reported by the config's own check
            problem = check_url(resolve(value, environ))
            if problem:
                problems.append(f"{place((*where, url_key))}: {problem}")
    return problems


def _resolvable(value: str, environ: dict[str, str]) -> bool:
    return all(m.group(0)[2:-1] in environ for m in _ENV.finditer(value))


# -- formats ----------------------------------------------------------------------------------


def alert_link(destination: Destination, alert: dict[str, Any]) -> str | None:
    if not destination.link:
        return None
    return destination.link + quote(str(alert.get("alert_id") or ""), safe="")


def webhook_body(destination: Destination, alert: dict[str, Any]) -> bytes:
    """The alert itself, as JSON (what `ingest watch` has always POSTed)."""
    return orjson.dumps(alert, default=str)


_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SEVERITY_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":large_blue_circle:",
    "info": ":white_circle:",
}


def mrkdwn(value: Any, limit: int = 2000) -> str:
    """`value` as Slack mrkdwn text that is only text: `&`, `<`, `>` escaped (so no mention,
    link or channel ping can be forged), cut at `limit` characters of the escaped text
    without splitting an escape."""
    text = "" if value is None else str(value)
    escaped, size = [], 0
    for char in text:
        piece = _SLACK_ESCAPES.get(char, char)
        if size + len(piece) > limit - 1:
            escaped.append("…")
            break
        escaped.append(piece)
        size += len(piece)
    return "".join(escaped)


def _plain(value: Any, limit: int) -> str:
    """Text for a plain_text object: Slack never parses it for mentions, links or
    formatting, so it is shown as written (escaping it would show `&lt;`)."""
    text = " ".join(("" if value is None else str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_body(destination: Destination, alert: dict[str, Any]) -> bytes:
    """A Block Kit message: a header with the severity and title, the summary, the fields an
    analyst looks at first, the link, and the ids as context."""
    severity = str(alert.get("severity") or "info")
    title = alert.get("title") or alert.get("detection_id") or "alert"
    account = " / ".join(str(alert[c]) for c in ("account_id", "aws_region") if alert.get(c))
    seen = f"{alert.get('first_seen_at') or '?'} → {alert.get('last_seen_at') or '?'}"
    fields = [
        ("Principal", alert.get("principal_arn")),
        ("Source IP", alert.get("source_ip_address")),
        ("Account / region", account),
        ("Events", f"{alert.get('event_count') or 0:,}"),
        ("First / last seen", seen),
        ("Status", alert.get("status")),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _plain(f"{severity.upper()}: {title}", 150)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{_SEVERITY_EMOJI.get(severity, '')} "
                + (mrkdwn(alert.get("summary"), 2900) or "_no summary_"),
                "verbatim": True,
            },
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*{label}*\n{mrkdwn(value or '—', 1900)}",
                    "verbatim": True,
                }
                for label, value in fields
            ],
        },
    ]
    link = alert_link(destination, alert)
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in trailhouse"},
                        "url": link,
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"detection {mrkdwn(alert.get('detection_id'), 900)} · "
                    f"alert {mrkdwn(alert.get('alert_id'), 900)}",
                    "verbatim": True,
                }
            ],
        }
    )
    # `text` is the notification and the fallback; it is mrkdwn too. `verbatim` above and no
    # unfurling: an address or `#channel` in hostile alert text stays text, never a link
    fallback = f"[{mrkdwn(severity.upper(), 20)}] {mrkdwn(title, 2900)}"
    return orjson.dumps(
        {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}
    )


_PAGERDUTY_SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}
# custom_details stays well under PagerDuty's 512 KB event limit
_MAX_DETAIL_ITEMS = 50


def pagerduty_action(alert: dict[str, Any]) -> str:
    """`resolve` once the alert is closed (or suppressed: nobody should be paged for it),
    `trigger` otherwise; a closed alert with new events reads as open again, and triggers."""
    return "resolve" if alert.get("status") == "closed" or alert.get("suppressed") else "trigger"


def pagerduty_body(destination: Destination, alert: dict[str, Any]) -> bytes:
    """An Events v2 event: `trigger` with the alert, or `resolve`, both keyed by the alert id."""
    action = pagerduty_action(alert)
    event: dict[str, Any] = {
        "routing_key": destination.routing_key,
        "event_action": action,
        "dedup_key": str(alert["alert_id"])[:255],
    }
    if action == "resolve":
        return orjson.dumps(event)
    severity = str(alert.get("severity") or "info")
    title = alert.get("title") or alert.get("detection_id") or "alert"
    summary = f"[{severity}] {title}" + (f": {alert['summary']}" if alert.get("summary") else "")
    where = "/".join(str(alert[c]) for c in ("account_id", "aws_region") if alert.get(c))
    details = {
        key: value[:_MAX_DETAIL_ITEMS] if isinstance(value, list) else value
        for key, value in alert.items()
    }
    event["payload"] = {
        "summary": summary[:1024],
        "source": f"aws:{where}" if where else "trailhouse",
        "severity": _PAGERDUTY_SEVERITY.get(severity, "info"),
        "timestamp": str(alert.get("last_seen_at") or alert.get("first_seen_at") or ""),
        "component": str(alert.get("principal_arn") or "")[:255] or None,
        "group": str(alert.get("account_id") or "") or None,
        "class": str(alert.get("detection_id") or "") or None,
        "custom_details": details,
    }
    event["payload"] = {k: v for k, v in event["payload"].items() if v is not None}
    if not event["payload"]["timestamp"]:
        del event["payload"]["timestamp"]
    event["client"] = "trailhouse"
    link = alert_link(destination, alert)
    if link:
        event["client_url"] = link
        event["links"] = [{"href": link, "text": "Alert in trailhouse"}]
    return orjson.dumps(event, default=str)


def http_post(destination: Destination, body: bytes, attempts: int, backoff: float) -> None:
    post(destination.endpoint, body, attempts=attempts, backoff=backoff)


def _always(alert: dict[str, Any], sent_before: bool) -> bool:
    return True


def _not_closed(alert: dict[str, Any], sent_before: bool) -> bool:
    """People are told about open alerts, not about the ones already closed or suppressed."""
    return alert.get("status") != "closed" and not alert.get("suppressed")


def _triggered_or_resolving(alert: dict[str, Any], sent_before: bool) -> bool:
    """A trigger always; a resolve only for an alert this destination triggered."""
    return pagerduty_action(alert) == "trigger" or sent_before


@dataclass(frozen=True)
class Format:
    render: Callable[[Destination, dict[str, Any]], bytes]
    # (alert, this destination sent a version of it before) → queue this version?
    wanted: Callable[[dict[str, Any], bool], bool] = _always
    # what makes a version of the alert news for this format, beyond `alert_version`
    extra_version: Callable[[dict[str, Any]], str] = lambda alert: ""
    deliver: Callable[[Destination, bytes, int, float], None] = http_post
    # (lake, the alerts about to be queued) → those alerts with what `render` needs besides
    prepare: Callable[[Lake, list[dict[str, Any]]], list[dict[str, Any]]] | None = None


def ocsf_line(destination: Destination, alert: dict[str, Any]) -> bytes:
    """The alert's Detection Finding (attached when it was queued) as one OCSF JSON line."""
    return orjson.dumps(alert["ocsf_finding"], default=str) + b"\n"


def append_line(destination: Destination, line: bytes, attempts: int, backoff: float) -> None:
    """Append one line to the destination's file, whole: under an exclusive lock (two senders
    never interleave), on disk before the alert leaves the outbox. A failed write (a full disk)
    is cut back off, and the alert stays in the outbox for the next cycle: a line may be
    written twice (delivery is at least once), never half."""
    path = Path(destination.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)  # releases the lock
    except OSError as exc:
        raise DeliveryError(f"{destination.path}: {exc.strerror or exc}") from None


FORMATS: dict[str, Format] = {
    "webhook": Format(webhook_body),
    "slack": Format(slack_body, wanted=_not_closed),
    "pagerduty": Format(
        pagerduty_body, wanted=_triggered_or_resolving, extra_version=pagerduty_action
    ),
    # the finding is read from the dbt view when the alert is queued (ingest/ocsf.py)
    # a closed or acknowledged alert is a new line too: its finding's status changed
    "ocsf_file": Format(
        ocsf_line,
        deliver=append_line,
        prepare=attach_findings,
        extra_version=lambda alert: alert.get("status") or "",
    ),
}
