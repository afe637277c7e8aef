"""AWS sessions and clients, and S3 access for DuckDB, from the standard credential chain.

Credentials are resolved by boto3 (environment, profile, SSO, assumed role, instance role);
their values are never printed or logged.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

# Adaptive retries back off on throttling (SlowDown, ThrottlingException) and 5xx responses.
RETRY_CONFIG = Config(
    retries={"max_attempts": 8, "mode": "adaptive"},
    max_pool_connections=64,
    connect_timeout=10,
    read_timeout=60,
)


def session(
    profile: str | None = None,
    role_arn: str | None = None,
    external_id: str | None = None,
    region: str | None = None,
    duration_seconds: int = 3600,
) -> boto3.Session:
    """A session from a profile (or the default chain), optionally assuming a role with it.

    The role's credentials refresh themselves (botocore re-assumes the role before they
    expire), so a backfill or a watcher that runs for hours never fails on an expired token.
    """
    base = boto3.Session(profile_name=profile, region_name=region)
    if not role_arn:
        return base
    extra = {"RoleSessionName": "trailhouse-ingest", "DurationSeconds": duration_seconds}
    if external_id:
        extra["ExternalId"] = external_id
    region = region or base.region_name or os.environ.get("AWS_REGION") or "us-east-1"
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda *args, **kwargs: base.client(
            *args, **{"config": RETRY_CONFIG, "region_name": region, **kwargs}
        ),
        source_credentials=base.get_credentials(),
        role_arn=role_arn,
        extra_args=extra,
    )
    core = botocore.session.Session()
    # botocore has no public setter for a session's refreshable credentials
    core._credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.Session(botocore_session=core, region_name=region)


def client(
    service: str,
    profile: str | None = None,
    boto_session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    config: Config = RETRY_CONFIG,
):
    boto_session = boto_session or session(profile)
    region = boto_session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
    return boto_session.client(
        service, region_name=region, config=config, endpoint_url=endpoint_url
    )


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> (`bucket`, `some/prefix`)."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URL: {url}")
    return parsed.netloc, parsed.path.strip("/")
