"""GeoIP lookups over MaxMind databases (`TRAILHOUSE_GEOIP_DB`), for the dbt plugin's UDFs."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import maxminddb

ENV = "TRAILHOUSE_GEOIP_DB"


class GeoIP:
    """Country and ASN of an address from one or more `.mmdb` files (Country/City and ASN
    databases, in any order): each lookup takes the first database that knows the field."""

    def __init__(self, paths: list[Path]) -> None:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"{ENV}: no such file: {', '.join(missing)}")
        self.readers = [maxminddb.open_database(str(p)) for p in paths]
        # Few distinct callers, many events: cache per address.
        self._record = lru_cache(maxsize=65536)(self._lookup)

    @classmethod
    def from_env(cls) -> GeoIP | None:
        raw = os.environ.get(ENV, "")
        paths = [Path(p).expanduser() for p in raw.split(os.pathsep) if p]
        return cls(paths) if paths else None

    def _lookup(self, ip: str) -> tuple[str | None, int | None]:
        country: str | None = None
        asn: int | None = None
        for reader in self.readers:
            try:
                found = reader.get(ip)
            except ValueError:  # not an address, or IPv6 in an IPv4-only database
                continue
            if not isinstance(found, dict):
                continue
            if country is None:
                place = found.get("country") or found.get("registered_country") or {}
                country = place.get("iso_code") if isinstance(place, dict) else None
            if asn is None and isinstance(found.get("autonomous_system_number"), int):
                asn = found["autonomous_system_number"]
        return country, asn

    def country(self, ip: str | None) -> str | None:
        return self._record(ip)[0] if ip else None

    def asn(self, ip: str | None) -> int | None:
        return self._record(ip)[1] if ip else None
