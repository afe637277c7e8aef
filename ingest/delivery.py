"""Sending JSON to an HTTP endpoint (webhooks, replay targets): POST with retries and
exponential backoff; the caller decides what to do with what could not be delivered.

A webhook URL is a secret (Slack's and Teams' carry their token in the path): it is never
printed or stored whole, only as `redacted(url)`. A redirect is not a delivery: the body was
not accepted where it was sent, and following it would resend it (or drop it, as a GET)
somewhere else.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit


class DeliveryError(Exception):
    def __init__(self, message: str, refused: bool = False, answered: bool = False) -> None:
        super().__init__(message)
        # the receiver answered "no" (a 4xx, a redirect): sending it again will not help
        self.refused = refused
        # it answered, but 5xx/429 (this body, or a moment of trouble); not `answered`: it
        # could not be reached at all
        self.answered = answered


def redacted(url: str) -> str:
    """The URL as it may be shown: scheme and host, never the path or query that hold the
    token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}/…"


def check_url(url: str) -> str | None:
    """Why `url` cannot be a delivery endpoint, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL: {redacted(url)}"
    if parts.username or parts.password:
        return "credentials in the URL: use a token in the path or a header"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        # http.client refuses them with an error that quotes the path, token and all
        return f"whitespace or control characters in the URL: {redacted(url)}"
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(
    url: str,
    body: bytes,
    content_type: str = "application/json",
    attempts: int = 5,
    backoff: float = 0.5,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """POST `body`; retry on connection errors and 5xx/429 with backoff * 2^n; a 4xx other
    than 429, or a redirect, is final (retrying will not help)."""
    shown = redacted(url)
    last = ""
    answered = False
    for attempt in range(attempts):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            last, answered = f"HTTP {exc.code}", True
            if 300 <= exc.code < 400:
                raise DeliveryError(
                    f"{shown} refused the delivery: {last} redirect (not a delivery)", refused=True
                ) from None
            if exc.code < 500 and exc.code != 429:
                raise DeliveryError(f"{shown} refused the delivery: {last}", refused=True) from None
        except (urllib.error.URLError, OSError) as exc:
            last, answered = str(getattr(exc, "reason", exc)).replace(url, shown), False
        if attempt + 1 < attempts:
            sleep(backoff * 2**attempt)
    if answered:
        raise DeliveryError(f"{shown} failed {attempts} attempts: {last}", answered=True)
    raise DeliveryError(f"{shown} unreachable after {attempts} attempts: {last}")
