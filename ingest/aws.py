"""AWS sessions and clients, and S3 access for DuckDB, from the standard credential chain.

Credentials are resolved by boto3 (environment, profile, SSO, assumed role, instance role);
their values are never printed or logged.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import boto3
from botocore.config import Config

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
) -> boto3.Session:
    """A session from a profile (or the default chain), optionally assuming a role with it."""
    base = boto3.Session(profile_name=profile, region_name=region)
    if not role_arn:
        return base
    arguments = {"RoleArn": role_arn, "RoleSessionName": "trailhouse-ingest"}
    if external_id:
        arguments["ExternalId"] = external_id
    credentials = base.client("sts", config=RETRY_CONFIG).assume_role(**arguments)["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region or base.region_name,
    )


def client(
    service: str,
    profile: str | None = None,
    boto_session: boto3.Session | None = None,
    endpoint_url: str | None = None,
):
    boto_session = boto_session or session(profile)
    region = boto_session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
    return boto_session.client(
        service, region_name=region, config=RETRY_CONFIG, endpoint_url=endpoint_url
    )


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> (`bucket`, `some/prefix`)."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URL: {url}")
    return parsed.netloc, parsed.path.strip("/")
