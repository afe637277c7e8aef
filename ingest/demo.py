"""`ingest demo`: generate the synthetic CloudTrail of `ingest.sources.demo` into the lake's
`_sources/demo/` and land it. The same options give the same data; a rerun with no options
reuses the dataset already there, and a different dataset needs `--replace` (which first
forgets what the previous one landed).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from ingest import compaction, land
from ingest.console import out, progress_bar
from ingest.duck import connect
from ingest.lake import Lake, UsageError
from ingest.sources import demo as demo_source
from ingest.sources import local_files


def run(lake: Lake, requested: dict[str, Any], replace: bool) -> None:
    """Generate (unless the same dataset is there) and land the demo dataset."""
    if lake.is_s3:
        raise UsageError(
            "ingest demo writes its raw files into a local lake; for a lake on S3, run it with a "
            "local TRAILHOUSE_LAKE, or land data with `ingest load` / `ingest pull`"
        )
    directory = lake.sources("demo")
    complete = demo_source.is_complete(directory)
    existing = demo_source.read_spec(directory) if complete else None
    if "end" in requested:
        requested["end"] = _parse_end(requested["end"])
    generate = True
    if existing and not replace:
        wanted = dataclasses.replace(existing, **requested)
        if wanted != existing:
            raise UsageError(
                f"this lake already holds a different demo dataset ({_describe(existing)}); "
                "pass --replace to regenerate it, or set TRAILHOUSE_LAKE to another directory"
            )
        spec = existing
        generate = not (directory / "AWSLogs").is_dir()
    else:
        spec = dataclasses.replace(
            demo_source.DemoSpec(end=demo_source.current_hour()), **requested
        )

    started = time.monotonic()
    with land.writing(lake, "ingest demo"):
        if generate:
            if directory.exists():
                # A previous dataset (--replace) or the remains of an interrupted run.
                con = connect(lake)
                removed = compaction.forget(lake, con, f"{directory}/")
                con.close()
                shutil.rmtree(directory)
                what = "previous" if complete else "incomplete"
                out.print(f"Removed the {what} demo dataset ({removed:,} landed records).")
            directory.mkdir(parents=True, exist_ok=True)
            with progress_bar("generating", total=spec.events, unit="events") as (progress, task):
                try:
                    result = demo_source.generate(
                        spec, directory, lambda n: progress.update(task, advance=n)
                    )
                except ValueError as exc:
                    shutil.rmtree(directory, ignore_errors=True)
                    raise UsageError(str(exc)) from None
            out.print(
                f"[bold green]Generated[/] {result.events:,} CloudTrail records in "
                f"{result.files:,} files (+{result.digests} digest files) · {_describe(spec)} · "
                f"{time.monotonic() - started:.1f}s"
            )
            _print_scenarios(result.scenarios)
        else:
            out.print(
                f"Demo dataset already generated ({_describe(spec)}); landing what is missing."
            )

        objects, _ = local_files.discover([directory / "AWSLogs"])
        summary = land.land_files(lake, objects, "demo")
    land.print_landing(summary, time.monotonic() - started)


def _parse_end(value: str) -> str:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--end must be an ISO date or time, not {value!r}") from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:00:00Z")


def _describe(spec: demo_source.DemoSpec) -> str:
    return (
        f"{spec.events:,} events, {spec.days} days to {spec.end}, {spec.accounts} accounts, "
        f"seed {spec.seed}"
    )


def _print_scenarios(scenarios: list[dict]) -> None:
    table = Table(
        title="Injected attack scenarios (labels in _sources/demo/scenarios.json)",
        title_justify="left",
    )
    table.add_column("scenario")
    table.add_column("events", justify="right")
    table.add_column("ATT&CK")
    for item in scenarios:
        table.add_row(
            item["scenario"], str(len(item["event_ids"])), ", ".join(item["mitre_techniques"])
        )
    out.print(table)
