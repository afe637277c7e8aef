"""One writer at a time per lake: the lease that pulls, loads, builds and compactions take.

Two writers on one lake (a cron pull and a watch, two machines on one S3 lake) would each read
the cursors and state, then overwrite the other's: rows go missing until a full refresh. So
every command that writes the lake holds its lease while it does:

- a local lake: `flock` on `<lake>/_state/lease.lock` (the kernel drops it when the process
  dies, however it dies);
- an S3 lake: the object `<lake>/_state/lease.json`, created with `If-None-Match: *` (only one
  PUT can create it), holding its owner, that a heartbeat thread rewrites with `If-Match` on
  its ETag every TTL/4 (retrying through network errors); a lease not rewritten for TTL
  seconds — judged by S3's own clock, its `Date` against the object's `Last-Modified` — is
  taken over (deleted with `If-Match`, so only the stale object is removed). A holder whose
  heartbeat could not keep the lease stops writing: every later write to the lake raises.

The second writer waits (`TRAILHOUSE_LEASE_WAIT` seconds, default 900) and then refuses with
who holds the lease. A child process of the holder (the `dbt build` that `ingest watch` runs)
finds the holder's token in `TRAILHOUSE_LEASE_TOKEN` and works under its lease.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ingest import aws
from ingest.lake import WRITE_CHECKS, Lake, UsageError, _s3, _split

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
        "ttl_seconds": ttl,
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
        # Never through a link planted in the lake: truncating it would wipe its target.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"{self.path} is not a regular file")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(owner).encode(), 0)
        except BaseException:
            os.close(fd)  # drops the lock too: never held by a descriptor nobody owns
            raise
        self.fd = fd
        return True

    def holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_bytes() or b"null")
        except (OSError, ValueError):
            return None

    def renew(self, owner: dict[str, Any]) -> str:
        return "kept"  # a flock lives as long as its process

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class _S3Lease:
    def __init__(self, lake: Lake, ttl: float) -> None:
        bucket, prefix = _split(lake.url)
        self.bucket, self.key = bucket, f"{prefix}/{S3_KEY}".lstrip("/")
        self.ttl = ttl
        self.etag: str | None = None
        self._client = None
        self._client_lock = threading.Lock()

    @property
    def client(self):
        """The heartbeat's own client: one attempt, short timeouts, so a renewal that hangs
        is over (and counted as failed) well within the lease's life. Made on first use: a
        nested or refused lease never needs one. Made once, under a lock: the heartbeat and
        the holder's thread may ask at the same time, and since Python 3.12 a
        functools.cached_property no longer locks, so each could get a client of its own."""
        with self._client_lock:
            if self._client is None:
                timeout = max(1.0, self.ttl / 8)
                config = Config(
                    retries={"max_attempts": 1, "mode": "standard"},
                    connect_timeout=timeout,
                    read_timeout=timeout,
                )
                self._client = aws.client("s3", os.environ.get("AWS_PROFILE"), config=config)
            return self._client

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
        holder, etag, age = found
        ttl = float((holder or {}).get("ttl_seconds") or TTL)
        if holder is not None and age <= ttl:
            return
        with contextlib.suppress(ClientError):  # someone else renewed or removed it first
            _s3().delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)

    def _read(self, client=None) -> tuple[dict[str, Any] | None, str, float] | None:
        """The lease object: its owner, ETag, and age in seconds by S3's clock."""
        try:
            response = (client or _s3()).get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        served = parsedate_to_datetime(response["ResponseMetadata"]["HTTPHeaders"]["date"])
        age = (served - response["LastModified"]).total_seconds()
        try:
            holder = json.loads(response["Body"].read())
        except ValueError:
            holder = None  # not a lease we can read: treated as expired
        return (holder if isinstance(holder, dict) else None), response["ETag"], age

    def holder(self) -> dict[str, Any] | None:
        found = self._read()
        return found[0] if found else None

    def renew(self, owner: dict[str, Any]) -> str:
        """ "kept", "lost" (someone else's lease now), or "failed" (try again)."""
        try:
            response = self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=json.dumps(owner).encode(), IfMatch=self.etag
            )
        except ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "NoSuchKey", "404"):
                return "failed"
            # A retried PUT that had succeeded fails its own If-Match: read back whose it is.
            try:
                found = self._read(self.client)
            except Exception:
                return "failed"
            if found and (found[0] or {}).get("token") == owner["token"]:
                self.etag = found[1]
                return "kept"
            return "lost"
        except Exception:  # a network error: the next beat tries again
            return "failed"
        self.etag = response["ETag"]
        return "kept"

    def release(self) -> None:
        if self.etag is not None:
            with contextlib.suppress(ClientError):  # already taken over: not ours to delete
                _s3().delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag)
            self.etag = None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Lease:
    """The lake's write lease, held from `acquire` to `release` (or the `with` block)."""

    def __init__(self, lake: Lake, purpose: str, ttl: float = TTL) -> None:
        self.lake, self.purpose, self.ttl = lake, purpose, ttl
        self.token = uuid.uuid4().hex
        self.backend = _S3Lease(lake, ttl) if lake.is_s3 else _LocalLease(lake)
        # until when, at the latest, nobody else can hold it: counted from when the last
        # renewal that S3 took was *sent* (it may have been written any time after)
        self._valid_until = float("inf")
        self.held = False
        self.nested = False
        self.lost = False
        self._beat_ok = True
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
        while True:
            sent = time.monotonic()
            if self.backend.try_acquire(_owner(self.purpose, self.token, self.ttl)):
                break
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
        WRITE_CHECKS[self.lake.url] = self.check
        if self.lake.is_s3:
            self._valid_until = sent + self.ttl * 0.75
            self._heartbeat = threading.Thread(target=self._renew, name="lease", daemon=True)
            self._heartbeat.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 4 if self._beat_ok else min(2.0, self.ttl / 8)):
            sent = time.monotonic()
            outcome = self.backend.renew(_owner(self.purpose, self.token, self.ttl))
            self._beat_ok = outcome == "kept"
            if outcome == "kept":
                self._valid_until = sent + self.ttl * 0.75
            elif outcome == "lost" or not self.valid():
                self.lost = True  # another writer may hold it: no more writes from us
                return

    def valid(self) -> bool:
        """Whether this process may still write under the lease."""
        return not self.lost and time.monotonic() < self._valid_until

    def check(self) -> None:
        """Raise if the lease may be lost (called before every write to the lake)."""
        if not self.valid():
            self.lost = True
            raise LeaseBusy(
                f"the lease on {self.lake.url} was lost while {self.purpose} ran (its heartbeat "
                f"could not renew it in time); stopped writing: run it again"
            )

    def child_env(self) -> dict[str, str]:
        """Environment for a child process that works under this lease (start it with
        `tied_to_this_process`)."""
        return {**os.environ, TOKEN_VARIABLE: self.token}

    def release(self) -> None:
        if not self.held:
            return
        try:
            self._stop.set()
            if self._heartbeat:
                self._heartbeat.join(self.ttl / 4 + 10)  # a hung renewal is not waited out
            self.backend.release()
        finally:
            self.held = False
            _HELD.pop(self.lake.url, None)
            WRITE_CHECKS.pop(self.lake.url, None)
        self.check()


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


def tied_to_this_process(command: list[str]) -> list[str]:
    """`command`, made to get SIGTERM when this process dies (Linux: `setpriv --pdeathsig`): a
    child working under our lease must not go on writing once the lease is gone with us."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command
