"""Shared terminal output: progress bars on stderr, summaries on stdout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# No emoji codes: `:secret:` in a Secrets Manager ARN is text, not a picture.
out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


# Control characters (terminal escape sequences, line breaks that forge output) and the
# bidirectional overrides that reorder what is shown.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(value: Any) -> str:
    """Any value for the terminal: rich markup in it is text (`[/]` in a user agent,
    `[link=...]` in an ARN), control characters are made visible. Every value that is not
    trailhouse's own text goes through this before it is printed."""
    text = "" if value is None else str(value)
    return escape(_UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text))


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


@contextmanager
def progress_bar(
    description: str, total: int | None, unit: str
) -> Iterator[tuple[Progress, TaskID]]:
    """A progress bar on stderr; silent when stderr is not a terminal (CI logs, pipes)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total, detail="")
        yield progress, task
