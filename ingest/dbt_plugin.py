"""dbt-duckdb plugin: the lake operations SQL cannot do, for the `lake_partitions` models.

Registers on every dbt connection:
  trailhouse_scratch()                  local working directory for files being written
  trailhouse_publish(local, key)        put a finished local file at <lake>/<key> in one step
                                        (a rename on a local lake, one PUT on S3)
  trailhouse_delete_prefix(key_prefix)  remove every file under <lake>/<key_prefix>
  trailhouse_keep_only(key_prefix, key) remove every file under <lake>/<key_prefix> but <key>
                                        (files another engine, e.g. Spark, wrote there)
  trailhouse_filter_canonical(sql)      a collection filter's canonical text, NULL if it is
                                        not in the filter grammar (see filters.py)
  trailhouse_lease_acquire(purpose)     take the lake's write lease for this dbt command, and
  trailhouse_lease_release(purpose)     drop it (see lease.py; on-run-start/-end hooks)
  trailhouse_geoip_country(ip)          ISO country code, and
  trailhouse_geoip_asn(ip)              autonomous system number, of an address, from the
                                        MaxMind databases in TRAILHOUSE_GEOIP_DB (see geoip.py)
loads the inet extension (IP types and CIDR containment, from its wheel), and, when the lake is
on S3, loads httpfs from its wheel and builds the S3 secret in memory from
the boto3 credential chain, so no credential is written to profiles.yml or dbt's logs.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from ingest.duck import enable_s3, load_extension
from ingest.filters import canonical_or_none
from ingest.geoip import GeoIP
from ingest.lake import Lake
from ingest.lease import Lease, LeaseBusy

# The lease of the dbt command running in this process (dbt may run in-process, one command
# after another: a command that died before its on-run-end hook must not hold it for the next).
_lease: Lease | None = None


def _acquire_lease(lake: Lake, purpose: str) -> str:
    global _lease
    with contextlib.suppress(LeaseBusy):  # a dead command's lease, lost to expiry: gone anyway
        _release_lease(purpose)
    _lease = Lease(lake, purpose).acquire(on_wait=lambda message: print(message, file=sys.stderr))
    return "nested" if _lease.nested else "held"


def _release_lease(purpose: str) -> str:
    global _lease
    lease, _lease = _lease, None
    if lease is not None:
        lease.release()  # raises if the lease expired while the command ran: the build fails
    return "released"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        root = getattr(self.creds, "external_root", None) or "."
        self.lake = Lake.at(root)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        lake = self.lake
        lake.scratch.mkdir(parents=True, exist_ok=True)
        load_extension(conn, "inet")
        if lake.is_s3:
            enable_s3(conn)

        def scratch() -> str:
            return str(lake.scratch)

        def publish(local: str, key: str) -> str:
            lake.put_file(Path(local), key, move=True)
            return key

        def delete_prefix(prefix: str) -> str:
            for key, _ in lake.list(prefix):
                lake.delete(key)
            return prefix

        def keep_only(prefix: str, keep: str) -> str:
            for key, _ in lake.list(prefix):
                if key != keep:
                    lake.delete(key)
            return keep

        conn.create_function("trailhouse_scratch", scratch, [], "VARCHAR", side_effects=True)
        conn.create_function(
            "trailhouse_publish", publish, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function(
            "trailhouse_delete_prefix", delete_prefix, ["VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function(
            "trailhouse_keep_only", keep_only, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function(
            "trailhouse_filter_canonical",
            canonical_or_none,
            ["VARCHAR"],
            "VARCHAR",
            null_handling="special",
        )
        conn.create_function(
            "trailhouse_lease_acquire",
            lambda purpose: _acquire_lease(lake, purpose),
            ["VARCHAR"],
            "VARCHAR",
            side_effects=True,
        )
        conn.create_function(
            "trailhouse_lease_release", _release_lease, ["VARCHAR"], "VARCHAR", side_effects=True
        )
        geo = GeoIP.from_env()
        if geo is not None:
            # "special": the lookups return NULL for addresses no database knows.
            conn.create_function(
                "trailhouse_geoip_country",
                geo.country,
                ["VARCHAR"],
                "VARCHAR",
                null_handling="special",
            )
            # AS numbers are unsigned 32-bit: BIGINT holds them all.
            conn.create_function(
                "trailhouse_geoip_asn", geo.asn, ["VARCHAR"], "BIGINT", null_handling="special"
            )
