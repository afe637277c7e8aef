"""Where the lake and the DuckDB catalog live, from the contract's environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LAKE = "./lake"
DEFAULT_DB = "./trailhouse.duckdb"


class UsageError(Exception):
    """A problem with how the command was called (exit code 2)."""


@dataclass(frozen=True)
class Lake:
    """The lake root and the well-known places under it."""

    root: Path

    @classmethod
    def from_env(cls) -> Lake:
        raw = os.environ.get("TRAILHOUSE_LAKE", DEFAULT_LAKE)
        if raw.startswith("s3://"):
            raise UsageError(
                "TRAILHOUSE_LAKE points at S3; this build of ingest lands to a local lake only"
            )
        # Resolve once so every path below is absolute and checks against the root are exact.
        return cls(Path(raw).expanduser().resolve())

    def landing(self, source: str) -> Path:
        return self.root / "landing" / source

    def state(self, source: str) -> Path:
        return self.root / "_state" / source

    def quarantine(self, source: str) -> Path:
        return self.root / "_quarantine" / source

    def sources(self, name: str) -> Path:
        """Raw inputs that trailhouse itself produced (the demo generator)."""
        return self.root / "_sources" / name

    @property
    def tmp(self) -> Path:
        return self.root / "_tmp"

    def inside(self, path: Path) -> Path:
        """Return `path` resolved, refusing anything that would escape the lake root."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(f"refusing to write outside the lake: {path}")
        return resolved

    def ensure(self) -> None:
        for sub in ("landing", "_state", "_quarantine", "_tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)


def duckdb_path() -> Path:
    return Path(os.environ.get("TRAILHOUSE_DB", DEFAULT_DB)).expanduser().resolve()
