"""Sending JSON to an HTTP endpoint (webhooks, replay targets): POST with retries and
exponential backoff; the caller decides what to do with what could not be delivered."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable


class DeliveryError(Exception):
    pass


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
    than 429 is final (the receiver rejected the content, retrying will not help)."""
    last = ""
    for attempt in range(attempts):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                raise DeliveryError(f"{url} refused the delivery: {last}") from None
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if attempt + 1 < attempts:
            sleep(backoff * 2**attempt)
    raise DeliveryError(f"{url} unreachable after {attempts} attempts: {last}")
