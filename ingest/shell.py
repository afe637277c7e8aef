"""`ingest query` without a query: an interactive shell over the lake.

Statements end with `;`; dot-commands list what there is (`.tables`, `.analyses`), run an
analysis (`.run NAME`) or leave (`.quit`). An error is reported and the shell goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import typer

from ingest.console import err, out, shown
from ingest.query import Catalog, list_analyses, stdin_is_terminal


def run(catalog: Catalog, project: Path, run_one: Callable[[str], None]) -> None:
    """Read statements (ending with `;`) and dot-commands until `.quit` or end of input."""
    interactive = stdin_is_terminal()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        out.print("trailhouse query shell: SQL ending with `;`, `.tables`, `.analyses`, "
                  "`.run NAME`, `.quit`")  # fmt: skip
    buffer: list[str] = []
    while True:
        try:
            line = (
                input("trailhouse> " if not buffer else "       ...> ") if interactive else input()
            )
        except EOFError:
            break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command, _, argument = stripped.partition(" ")
            if command in (".quit", ".exit"):
                break
            if command == ".tables":
                out.print(", ".join(sorted(catalog.datasets) + catalog.views))
            elif command == ".analyses":
                out.print(", ".join(list_analyses(project)))
            elif command == ".run" and argument:
                _statement(run_one, argument)
            else:
                err.print(f"unknown command {shown(stripped)!r}")
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            statement = "\n".join(buffer).strip().rstrip(";")
            buffer = []
            _statement(run_one, statement)
    if buffer and "".join(buffer).strip():
        _statement(run_one, "\n".join(buffer))


def _statement(run_one: Callable[[str], None], statement: str) -> None:
    """One statement of the shell: an error is reported and the shell goes on."""
    with contextlib.suppress(typer.Exit):
        run_one(statement)
