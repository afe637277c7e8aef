"""Landing as the commands run it: under the lake's lease, with a progress bar, compacting
what piled up, and a summary a person can act on. `ingest load`, `demo`, `pull` and `watch`
land through here, CloudTrail and line formats alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from rich.table import Table

from ingest import compaction
from ingest.console import err, human_bytes, out, progress_bar, shown
from ingest.duck import connect
from ingest.lake import Lake
from ingest.landing import InputObject, Lander, LandingSummary
from ingest.lease import Lease
from ingest.lease import writing as lease_writing
from ingest.line_landing import LineLander
from ingest.sources.access_log import LineFormat


@contextmanager
def writing(lake: Lake, purpose: str) -> Iterator[Lease]:
    """Hold the lake's write lease (ingest.lease), saying so while another writer has it."""
    with lease_writing(
        lake, purpose, on_wait=lambda message: err.print(f"[yellow]{shown(message)}[/]")
    ) as lease:
        yield lease


def land_files(
    lake: Lake,
    objects: list[InputObject],
    collection: str,
    *,
    line_format: LineFormat | None = None,
    dataset: str = "cloudtrail",
) -> LandingSummary:
    """Land local inputs: CloudTrail, or lines of `line_format` into `landing/<dataset>/`."""
    with writing(lake, f"ingest ({collection})"):
        con = connect(lake)
        try:
            pending = sum(1 for o in objects if not o.skip_reason)
            unit = "lines" if line_format else "records"
            with progress_bar("landing", total=pending, unit="files") as (progress, task):

                def advance(files: int, size: int, records: int) -> None:
                    progress.update(
                        task, advance=files, detail=f"{records:,} {unit} · {human_bytes(size)}"
                    )

                if line_format is None:
                    summary = Lander(lake, con, collection).land(objects, advance)
                    auto_compact(lake, con, summary)
                else:
                    lander = LineLander(lake, con, dataset, collection)
                    summary = lander.land(objects, line_format, advance)
            return summary
        finally:
            con.close()


def auto_compact(lake: Lake, con: duckdb.DuckDBPyConnection, summary: LandingSummary) -> None:
    """Keep the CloudTrail partitions this run touched from piling up small files."""
    merged = compaction.compact_landing(
        lake, con, min_files=compaction.AUTO_MIN_FILES, only=summary.partitions
    )
    compaction.compact_state(lake, con, min_files=compaction.AUTO_MIN_FILES)
    if merged.partitions:
        out.print(
            f"Compacted {len(merged.partitions)} landing partition(s): "
            f"{merged.files_before:,} files into {merged.files_after:,}."
        )


def print_landing(summary: LandingSummary, seconds: float) -> None:
    if not (summary.landed or summary.skipped or summary.quarantined or summary.failed):
        out.print(
            f"Nothing new to land: all {summary.already_landed:,} input(s) were landed before "
            f"({seconds:.1f}s)."
        )
        return
    span = ""
    if summary.partitions:
        first, last = min(summary.partitions), max(summary.partitions)
        span = f" ({first} … {last})" if first != last else f" ({first})"
    out.print(
        f"[bold green]Landed[/] {summary.landed:,} file(s) · {summary.records:,} records · "
        f"{len(summary.partitions)} event_date partition(s){span} · "
        f"{human_bytes(summary.bytes_read)} read in {seconds:.1f}s"
    )
    if summary.already_landed:
        out.print(f"Already landed, not read again: {summary.already_landed:,} file(s)")
    if summary.skipped:
        reasons: dict[str, int] = {}
        for _, reason in summary.skipped:
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in sorted(reasons.items()):
            out.print(f"Skipped {count:,} file(s): {reason}")
    if summary.quarantined:
        table = Table(
            title=f"Quarantined {len(summary.quarantined)} input(s)", title_justify="left"
        )
        table.add_column("input", overflow="fold")
        table.add_column("reason", overflow="fold")
        for source, reason in summary.quarantined:
            table.add_row(shown(source), shown(reason))
        out.print(table)
        out.print("Quarantined inputs are under the lake's _quarantine/ with a .reason.json each.")
    if summary.rejected_records:
        out.print(
            f"{summary.rejected_records:,} invalid record(s) or line(s) of landed files were "
            "quarantined with their positions and reasons (_quarantine/…/*.rejected.jsonl); "
            "every other record landed."
        )
    if summary.failed:
        table = Table(
            title=f"Not read ({len(summary.failed)}); retried on the next run",
            title_justify="left",
        )
        table.add_column("input", overflow="fold")
        table.add_column("reason", overflow="fold")
        for source, reason in summary.failed:
            table.add_row(shown(source), shown(reason))
        out.print(table)
    if summary.landed or summary.quarantined:
        out.print("Next: [bold]dbt build[/] to update the lake datasets.")
