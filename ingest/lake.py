"""The lake root (TRAILHOUSE_LAKE): a local directory or an s3:// prefix, behind one interface.

Everything ingest writes goes through `Lake.put_*` with a key relative to the root. Keys are
built by trailhouse from safe names, never from input object keys, and are checked to stay under
the root. Local writes are atomic renames; S3 writes are single PUTs, atomic by nature.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

from ingest.aws import client, split_s3_url

DEFAULT_LAKE = "./lake"
# lake URL → a check each write runs first: a writer that lost the lake's lease stops
# (ingest.lease registers it while the lease is held).
WRITE_CHECKS: dict[str, Callable[[], None]] = {}


class UsageError(Exception):
    """A problem with how the command was called (exit code 2)."""


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"refusing a lake key that could escape the lake: {key!r}")
    return key


@dataclass(frozen=True)
class Lake:
    """The lake root and the well-known places under it."""

    url: str  # absolute local path, or s3://bucket/prefix (no trailing slash)
    scratch: Path = field(compare=False)  # local working space (spill, files being written)

    @classmethod
    def from_env(cls) -> Lake:
        return cls.at(os.environ.get("TRAILHOUSE_LAKE", DEFAULT_LAKE))

    @classmethod
    def at(cls, raw: str) -> Lake:
        if raw.startswith("s3://"):
            url = raw.rstrip("/")
            digest = hashlib.sha256(url.encode()).hexdigest()[:12]
            scratch = Path(tempfile.gettempdir()) / f"trailhouse-{os.getuid()}-{digest}"
            return cls(url, scratch)
        root = Path(raw).expanduser().resolve()
        # Scratch lives inside a local lake so that renames into place stay on one file system.
        return cls(str(root), root / "_tmp")

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    @property
    def root(self) -> Path:
        """The local root directory (local lakes only)."""
        if self.is_s3:
            raise UsageError(f"this needs a local lake, and TRAILHOUSE_LAKE is {self.url}")
        return Path(self.url)

    def uri(self, key: str) -> str:
        """Where a key lives, in a form DuckDB and boto3 understand (may contain globs)."""
        return f"{self.url}/{key}"

    def ensure(self) -> None:
        if not self.is_s3:
            # A new lake is its owner's alone: its state decides what the next build does.
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            for sub in ("landing", "_state", "_quarantine"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        # Downloaded logs pass through scratch: private to this user, and never a link
        # another user could have planted in a shared temporary directory.
        self.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.scratch.lstat()
        if self.scratch.is_symlink() or info.st_uid != os.getuid():
            raise UsageError(f"scratch directory {self.scratch} is not a directory of this user")
        self.scratch.chmod(0o700)
        self._sweep_scratch()

    def _sweep_scratch(self, max_age_seconds: float = 6 * 3600) -> None:
        """Remove what crashed runs left in scratch (files are named per process or build)."""
        cutoff = time.time() - max_age_seconds
        for entry in self.scratch.iterdir():
            if entry.name == "duckdb-spill":
                continue  # shared by live connections; DuckDB cleans its own files
            try:
                if entry.lstat().st_mtime < cutoff:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
            except FileNotFoundError:
                continue  # another process cleaned it first

    def sources(self, name: str) -> Path:
        """Raw inputs that trailhouse itself produced (the demo generator)."""
        return self.root / "_sources" / name

    # -- storage ---------------------------------------------------------------------------

    def _writable(self, key: str) -> None:
        _check_key(key)
        if check := WRITE_CHECKS.get(self.url):
            check()

    def put_file(self, local: Path, key: str, *, move: bool = False) -> None:
        self._writable(key)
        if self.is_s3:
            bucket, prefix = _split(self.url)
            _s3().upload_file(str(local), bucket, f"{prefix}/{key}".lstrip("/"))
            if move:
                local.unlink()
            return
        target = Path(self.url, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            _publish(local, target)
            return
        aside = self._aside(target.name)
        shutil.copyfile(local, aside)
        _publish(aside, target)

    def put_bytes(self, data: bytes, key: str) -> None:
        self._writable(key)
        if self.is_s3:
            bucket, prefix = _split(self.url)
            _s3().put_object(Bucket=bucket, Key=f"{prefix}/{key}".lstrip("/"), Body=data)
            return
        target = Path(self.url, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = self._aside(target.name)
        aside.write_bytes(data)
        _publish(aside, target)

    def _aside(self, name: str) -> Path:
        """A scratch path of its own for a file being written (threads of one process write
        files with the same name: the watcher's outbox and its webhook's undelivered/)."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.scratch / f"put-{os.getpid()}-{secrets.token_hex(8)}-{name[-80:]}"

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object."""
        _check_key(key)
        if self.is_s3:
            bucket, prefix = _split(self.url)
            try:
                response = _s3().get_object(Bucket=bucket, Key=f"{prefix}/{key}".lstrip("/"))
            except _s3().exceptions.NoSuchKey:
                return None
            return response["Body"].read()
        path = Path(self.url, key)
        return path.read_bytes() if path.is_file() else None

    def list(self, prefix: str) -> list[tuple[str, int]]:
        """(key, size) of every object under `prefix`, sorted by key."""
        if self.is_s3:
            bucket, root = _split(self.url)
            full = f"{root}/{prefix}".lstrip("/")
            found = []
            for page in _s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full):
                for item in page.get("Contents", []):
                    found.append((item["Key"][len(root) + 1 if root else 0 :], item["Size"]))
            return sorted(found)
        base = Path(self.url)
        directory = base / prefix
        if not directory.is_dir():
            return []
        return sorted(
            (p.relative_to(base).as_posix(), p.stat().st_size)
            for p in directory.rglob("*")
            if p.is_file()
        )

    def delete(self, key: str) -> None:
        self._writable(key)
        if self.is_s3:
            bucket, prefix = _split(self.url)
            _s3().delete_object(Bucket=bucket, Key=f"{prefix}/{key}".lstrip("/"))
            return
        Path(self.url, key).unlink(missing_ok=True)


def _publish(written: Path, target: Path) -> None:
    """Rename a finished file into place durably: its bytes reach the disk before the name
    does, and the rename before we return, so a power cut leaves the old file or the new one,
    never an empty or torn file under the final name."""
    with written.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(written, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _split(url: str) -> tuple[str, str]:
    return split_s3_url(url)


def _s3():
    return _s3_client(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_PROFILE"))


@cache
def _s3_client(endpoint: str | None, profile: str | None):
    # Cached per endpoint and profile: building a client costs more than most uploads.
    return client("s3", profile)
