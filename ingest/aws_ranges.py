"""AWS's own address ranges (ip-ranges.json) as the seed `aws_ip_ranges`.

An EC2 instance's NAT gateway or public address is AWS's, not a known network of ours: without
these ranges, "instance credentials used outside AWS" could not tell an instance's own egress
from a thief's. AWS publishes the ranges as JSON; `ingest networks aws-ranges` downloads (or
reads) it and writes one row per prefix, the most specific service first (every prefix is also
listed under the catch-all AMAZON). The document is untrusted input: prefixes must parse as
networks and names be plain words, or nothing is written.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ingest import generated

URL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
SEED = Path("seeds") / "aws_ip_ranges.csv"
COLUMNS = ("cidr", "aws_region", "aws_service")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A real ip-ranges.json is about 2 MB; refuse anything that could exhaust memory.
MAX_BYTES = 64 * 1024 * 1024
# AWS's widest published prefixes are IPv4 /8-/11 and IPv6 /24-/32.
MIN_PREFIX = {4: 8, 6: 16}
_KEYS = {4: "ip_prefix", 6: "ipv6_prefix"}


class RangesError(ValueError):
    """The document is not a usable ip-ranges.json."""


@dataclass(frozen=True)
class Ranges:
    rows: list[tuple[str, str, str]]
    created: str


def parse(raw: bytes) -> Ranges:
    if len(raw) > MAX_BYTES:
        raise RangesError(f"larger than {MAX_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise RangesError(f"not JSON: {str(error)[:200]}") from None
    if not isinstance(document, dict):
        raise RangesError("not an ip-ranges document (expected an object)")
    entries = [
        (entry, key)
        for listing, key in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix"))
        for entry in document.get(listing) or []
    ]
    if not entries:
        raise RangesError("no prefixes (expected `prefixes` / `ipv6_prefixes` lists)")
    services: dict[str, tuple[str, str]] = {}
    for entry, key in entries:
        if not isinstance(entry, dict):
            raise RangesError(f"a prefix entry is not an object: {str(entry)[:80]!r}")
        prefix, region, service = entry.get(key), entry.get("region"), entry.get("service")
        try:
            parsed = ipaddress.ip_network(str(prefix))
        except ValueError:
            raise RangesError(f"not a network: {str(prefix)[:80]!r}") from None
        # one planted 0.0.0.0/0 (or a private range) would make every caller "AWS" and
        # silence the detections that ask whether a call came from outside AWS
        shortest = MIN_PREFIX[parsed.version]
        if parsed.prefixlen < shortest or not parsed.is_global or key != _KEYS[parsed.version]:
            raise RangesError(
                f"not a plausible AWS range: {parsed} (public, IPv4 /{MIN_PREFIX[4]} or "
                f"longer, IPv6 /{MIN_PREFIX[6]} or longer, each in its own list)"
            )
        network = str(parsed)
        if not all(isinstance(n, str) and _NAME.fullmatch(n) for n in (region, service)):
            raise RangesError(f"bad region or service for {network}: {region!r}, {service!r}")
        if network not in services or services[network][1] == "AMAZON":
            services[network] = (region, service)
    rows = sorted((cidr, region, service) for cidr, (region, service) in services.items())
    return Ranges(rows, str(document.get("createDate") or "unknown"))


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is followed only on the same host and never from https to http: the ranges
    decide which addresses count as AWS's, so they come from where the user said."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if new.hostname != old.hostname or (old.scheme == "https" and new.scheme != "https"):
            raise RangesError(
                f"{old.scheme}://{old.hostname} redirected to another host or to plain http "
                f"({new.scheme}://{new.hostname}): not followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects)


def download(url: str = URL, timeout: float = 30.0) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise RangesError(f"not an http(s) URL: {url}")
    with _OPENER.open(url, timeout=timeout) as response:
        raw = response.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise RangesError(f"larger than {MAX_BYTES} bytes")
    return raw


def render(ranges: Ranges) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(ranges.rows)
    return buffer.getvalue()


def write_seed(project: Path, ranges: Ranges) -> Path:
    """The seed, replaced whole (a reader sees the old file or the new one)."""
    path = project / SEED
    generated.write_atomic(path, render(ranges))
    return path
