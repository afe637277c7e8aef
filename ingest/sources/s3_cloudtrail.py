"""CloudTrail log objects in S3: discovery, date-pruned listing, and safe downloads.

Layouts understood (P is an optional prefix):
    P/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
    P/AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz   (org trails)
Accounts, organizations and regions are discovered with delimiter listings; objects are listed
only under the day prefixes of the requested range, never by scanning the bucket. Object keys
are data: downloads go to files named by a hash of the key, never by the key itself.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

ACCOUNT = re.compile(r"^\d{12}$")
ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz (Insight files say
# CloudTrail-Insight). Digest files (CloudTrail-Digest) never match: they hold no events.
LOG_FILE = re.compile(
    r"^\d{12}_CloudTrail(-Insight)?_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$"
)
DOWNLOAD_ATTEMPTS = 4


@dataclass(frozen=True)
class Leaf:
    """One account's logs for one region: `.../<account>/CloudTrail/<region>/`."""

    prefix: str
    account: str
    region: str
    org_id: str | None = None


@dataclass(frozen=True)
class RemoteObject:
    bucket: str
    key: str
    etag: str
    size: int
    day: date | None = None
    leaf: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_log_object(key: object) -> bool:
    return isinstance(key, str) and bool(LOG_FILE.match(key.rsplit("/", 1)[-1]))


def local_name(uri: str) -> str:
    """A scratch file name for an object: a hash of its URI, keeping the .json.gz suffix."""
    return hashlib.sha256(uri.encode("utf-8", "surrogateescape")).hexdigest()[:40] + ".json.gz"


class DownloadError(Exception):
    def __init__(self, message: str, persistent: bool = False) -> None:
        super().__init__(message)
        # the store refused the object itself (denied, gone, archived): retrying now will not
        # help, and it is counted across runs (ingest.state.count_refusal)
        self.persistent = persistent


def download(s3, bucket: str, key: str, dest: Path) -> tuple[str, int, datetime | None]:
    """Fetch one object to `dest`; return (etag, size, when S3 received it). Retries broken
    transfers.

    botocore already retries throttling and 5xx responses (adaptive mode); this loop also
    covers a connection that drops mid-body, which botocore cannot replay.
    """
    last: Exception | None = None
    for attempt in range(DOWNLOAD_ATTEMPTS):
        try:
            response = s3.get_object(Bucket=bucket, Key=key)
            size = 0
            with dest.open("wb") as handle:
                for chunk in response["Body"].iter_chunks(1 << 20):
                    handle.write(chunk)
                    size += len(chunk)
            if size != response["ContentLength"]:
                raise DownloadError(f"short read: {size} of {response['ContentLength']} bytes")
            return response["ETag"].strip('"'), size, response.get("LastModified")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "AccessDenied", "403", "404", "InvalidObjectState"}:
                message = f"{code}: {exc.response['Error'].get('Message', '')}"
                raise DownloadError(message, persistent=True) from exc
            last = exc
        except (BotoCoreError, DownloadError, OSError) as exc:
            last = exc
        time.sleep(min(8.0, 0.25 * 2**attempt))
    dest.unlink(missing_ok=True)
    raise DownloadError(f"failed after {DOWNLOAD_ATTEMPTS} attempts: {last}")


class S3CloudTrail:
    """Discovers and lists CloudTrail log objects in one bucket."""

    def __init__(
        self,
        s3,
        bucket: str,
        prefix: str = "",
        *,
        org_id: str | None = None,
        accounts: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
        insights: bool = False,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.org_id = org_id
        self.accounts = set(accounts)
        self.regions = set(regions)
        self.folders = ("CloudTrail", "CloudTrail-Insight") if insights else ("CloudTrail",)

    @property
    def root(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"

    def _children(self, prefix: str) -> list[str]:
        """Names of the `folders/` directly under a prefix (one delimiter listing)."""
        names = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return names

    def leaves(self) -> list[Leaf]:
        account_roots: list[tuple[str, str, str | None]] = []
        for name in self._children(self.root):
            if ACCOUNT.match(name):
                if self.org_id is None:
                    account_roots.append((f"{self.root}{name}/", name, None))
            elif ORG.match(name) and self.org_id in (None, name):
                for account in self._children(f"{self.root}{name}/"):
                    if ACCOUNT.match(account):
                        account_roots.append((f"{self.root}{name}/{account}/", account, name))
        leaves = []
        for base, account, org in account_roots:
            if self.accounts and account not in self.accounts:
                continue
            for folder in self.folders:
                for region in self._children(f"{base}{folder}/"):
                    if REGION.match(region) and (not self.regions or region in self.regions):
                        leaves.append(Leaf(f"{base}{folder}/{region}/", account, region, org))
        return leaves

    def list_day(self, leaf: Leaf, day: date) -> list[RemoteObject]:
        prefix = f"{leaf.prefix}{day:%Y/%m/%d}/"
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                found.append(
                    RemoteObject(
                        bucket=self.bucket,
                        key=item["Key"],
                        etag=item["ETag"].strip('"'),
                        size=item["Size"],
                        day=day,
                        leaf=leaf.prefix,
                    )
                )
        return found


def days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
