"""dbt-duckdb plugin for the `s3` target: S3 access with the same credentials ingest uses.

httpfs is installed from its wheel (no download at run time) and the secret is built from the
boto3 credential chain in memory, so no credential ever appears in profiles.yml or dbt's logs.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from ingest.duck import enable_s3


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        enable_s3(conn)
