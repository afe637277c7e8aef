"""One writer at a time per lake: the lease that pulls, loads, builds and compactions take.

Two writers on one lake (a cron pull and a watch, two machines on one S3 lake) would each read
the cursors and state, then overwrite the other's: rows go missing until a full refresh. So
every command that writes the lake holds its lease while it does:

- a local lake: `flock` on `<lake>/_state/lease.lock` (the kernel drops it when the process
  dies, however it dies);
- an S3 lake: the object `<lake>/_state/lease.json`, created with `If-None-Match: *` (only one
  PUT can create it), holding its owner and an expiry that a heartbeat thread extends with
  `If-Match` on the object's ETag; a lease whose owner died expires and is taken over (deleted
  with `If-Match`, so only the stale object is removed).

The second writer waits (`TRAILHOUSE_LEASE_WAIT` seconds, default 900) and then refuses with
who holds the lease. A child process of the holder (the `dbt build` that `ingest watch` runs)
finds the holder's token in `TRAILHOUSE_LEASE_TOKEN` and works under its lease.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ingest.lake import Lake, UsageError, _s3, _split

LOCAL_KEY = "_state/lease.lock"
S3_KEY = "_state/lease.json"
TOKEN_VARIABLE = "TRAILHOUSE_LEASE_TOKEN"
WAIT_VARIABLE = "TRAILHOUSE_LEASE_WAIT"
DEFAULT_WAIT = 900.0
TTL = 120.0  # seconds an S3 lease lives without a heartbeat (the owner renews every TTL/4)


# Leases this process holds, by lake: a second acquire of the same lake in the same process is
# nested (a second flock on a new descriptor would wait for the first forever).
_HELD: dict[str, Lease] = {}


class LeaseBusy(UsageError):
    """Another writer holds the lake's lease."""


def default_wait() -> float:
    return float(os.environ.get(WAIT_VARIABLE, DEFAULT_WAIT))


def _owner(purpose: str, token: str, ttl: float) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "token": token,
        "purpose": purpose,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": now.isoformat(timespec="seconds"),
        "expires_at": (now + timedelta(seconds=ttl)).isoformat(timespec="seconds"),
    }


def describe(owner: dict[str, Any] | None) -> str:
    if not owner:
        return "another writer"
    return (
        f"{owner.get('purpose', '?')} (pid {owner.get('pid', '?')} on {owner.get('host', '?')}, "
        f"since {owner.get('acquired_at', '?')})"
    )


class _LocalLease:
    def __init__(self, lake: Lake) -> None:
        self.root = lake.root
        self.path = lake.root / LOCAL_KEY
        self.fd: int | None = None

    def try_acquire(self, owner: dict[str, Any]) -> bool:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # as Lake.ensure makes it
        self.path.parent.mkdir(exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self.fd = fd
        return True

    def holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_bytes() or b"null")
        except (OSError, ValueError):
            return None

    def renew(self, owner: dict[str, Any]) -> bool:
        return True  # a flock lives as long as its process

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class _S3Lease:
    def __init__(self, lake: Lake) -> None:
        bucket, prefix = _split(lake.url)
        self.bucket, self.key = bucket, f"{prefix}/{S3_KEY}".lstrip("/")
        self.etag: str | None = None

    def try_acquire(self, owner: dict[str, Any]) -> bool:
        s3 = _s3()
        try:
            response = s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=json.dumps(owner).encode(), IfNoneMatch="*"
            )
        except ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            self._expire_stale()
            return False
        self.etag = response["ETag"]
        return True

    def _expire_stale(self) -> None:
        """Delete the lease object if its owner stopped renewing it (a dead process)."""
        found = self._read()
        if found is None:
            return
        holder, etag = found
        expires = _parse_time(holder.get("expires_at")) if holder else None
        if expires is not None and expires > datetime.now(UTC):
            return
        with contextlib.suppress(ClientError):  # someone else renewed or removed it first
            _s3().delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)

    def _read(self) -> tuple[dict[str, Any] | None, str] | None:
        try:
            response = _s3().get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        try:
            holder = json.loads(response["Body"].read())
        except ValueError:
            holder = None  # not a lease we can read: treated as expired
        return (holder if isinstance(holder, dict) else None), response["ETag"]

    def holder(self) -> dict[str, Any] | None:
        found = self._read()
        return found[0] if found else None

    def renew(self, owner: dict[str, Any]) -> bool:
        try:
            response = _s3().put_object(
                Bucket=self.bucket, Key=self.key, Body=json.dumps(owner).encode(), IfMatch=self.etag
            )
        except ClientError:
            return False  # expired and taken over: the holder is told at release
        self.etag = response["ETag"]
        return True

    def release(self) -> None:
        if self.etag is not None:
            with contextlib.suppress(ClientError):  # already taken over: not ours to delete
                _s3().delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag)
            self.etag = None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class Lease:
    """The lake's write lease, held from `acquire` to `release` (or the `with` block)."""

    def __init__(self, lake: Lake, purpose: str, ttl: float = TTL) -> None:
        self.lake, self.purpose, self.ttl = lake, purpose, ttl
        self.token = uuid.uuid4().hex
        self.backend = _S3Lease(lake) if lake.is_s3 else _LocalLease(lake)
        self.held = False
        self.nested = False
        self.lost = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def acquire(
        self, wait: float | None = None, on_wait: Callable[[str], None] | None = None
    ) -> Lease:
        if self.lake.url in _HELD:
            self.nested = True  # this process holds it already (a pull inside a watch cycle)
            return self
        wait = default_wait() if wait is None else wait
        deadline = time.monotonic() + wait
        inherited = os.environ.get(TOKEN_VARIABLE)
        told = False
        while not self.backend.try_acquire(_owner(self.purpose, self.token, self.ttl)):
            holder = self.backend.holder()
            if inherited and (holder or {}).get("token") == inherited:
                self.nested = True  # our parent process holds it, for us
                return self
            if time.monotonic() >= deadline:
                raise LeaseBusy(
                    f"the lake {self.lake.url} is being written by {describe(holder)}; waited "
                    f"{wait:g} s (set {WAIT_VARIABLE} to wait longer, or try again when it ends)"
                )
            if on_wait and not told:
                on_wait(f"waiting for the lake: it is being written by {describe(holder)}")
                told = True
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))
        self.held = True
        _HELD[self.lake.url] = self
        if self.lake.is_s3:
            self._heartbeat = threading.Thread(target=self._renew, name="lease", daemon=True)
            self._heartbeat.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            if not self.backend.renew(_owner(self.purpose, self.token, self.ttl)):
                self.lost = True
                return

    def child_env(self) -> dict[str, str]:
        """Environment for a child process that works under this lease."""
        return {**os.environ, TOKEN_VARIABLE: self.token}

    def release(self) -> None:
        if not self.held:
            return
        self._stop.set()
        if self._heartbeat:
            self._heartbeat.join()
        self.backend.release()
        self.held = False
        _HELD.pop(self.lake.url, None)
        if self.lost:
            raise LeaseBusy(
                f"the lease on {self.lake.url} expired while {self.purpose} ran (no heartbeat "
                f"for {self.ttl:g} s) and another writer may have taken it: check the lake"
            )


@contextlib.contextmanager
def writing(
    lake: Lake, purpose: str, on_wait: Callable[[str], None] | None = None
) -> Iterator[Lease]:
    """Hold the lake's lease for a block of writes."""
    lease = Lease(lake, purpose).acquire(on_wait=on_wait)
    try:
        yield lease
    finally:
        lease.release()
