"""Local files and directories for `ingest load` (CloudTrail, access logs, custom formats)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.landing import InputObject, fingerprint_file, not_read

# Extensions picked up when walking a directory; a file named explicitly is always tried.
JSON_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
DIGEST_MARKERS = ("CloudTrail-Digest", "CloudTrail_Digest")


def skip_reason(name: str) -> str | None:
    """Why a CloudTrail delivery object is not a log file, or None if it is one."""
    if any(marker in name for marker in DIGEST_MARKERS):
        return "CloudTrail digest file (integrity hashes, not events)"
    return None


def _walk(directory: Path, suffixes: tuple[str, ...] | None) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if suffixes is None or name.lower().endswith(suffixes):
                file = Path(root) / name
                yield file.resolve() if file.is_symlink() else file


def discover(
    paths: Iterable[Path], suffixes: tuple[str, ...] | None = JSON_SUFFIXES, cloudtrail: bool = True
) -> tuple[list[InputObject], list[Path]]:
    """Expand files and directories into landing inputs; also return paths that do not exist.
    A directory is walked for files ending in `suffixes` (every file when None)."""
    found: list[InputObject] = []
    missing: list[Path] = []
    for given in paths:
        path = given.expanduser()
        if path.is_dir():
            # Resolve the directory once; the walk below it only yields real files.
            candidates: Iterable[Path] = _walk(path.resolve(), suffixes)
        elif path.is_file():
            candidates = [path.resolve()]
        else:
            missing.append(given)
            continue
        for resolved in candidates:
            found.append(_input(resolved, cloudtrail))
    return found, missing


def _input(path: Path, cloudtrail: bool) -> InputObject:
    # The identity recorded with the rows is text: bytes that are not UTF-8 are shown escaped.
    source = os.fsencode(path).decode("utf-8", "backslashreplace")
    try:
        fingerprint, size = fingerprint_file(path), path.stat().st_size
    except OSError as exc:  # permissions, a file gone since the listing, a stale NFS handle
        return InputObject(source, path, "", 0, error=not_read(exc.strerror or exc))
    return InputObject(
        source_object=source,
        path=path,
        fingerprint=fingerprint,
        size_bytes=size,
        skip_reason=skip_reason(source) if cloudtrail else None,
        growing=True,
    )
