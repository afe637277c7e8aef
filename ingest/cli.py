"""`ingest`: land raw security logs where dbt can read them.

Every command works on the lake named by TRAILHOUSE_LAKE (default ./lake). Exit codes: 0 success
(quarantined inputs are reported, not fatal), 1 failure, 2 usage error.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import duckdb
import jinja2
import typer
from rich.table import Table
from typer.core import TyperGroup

from ingest import (
    __version__,
    aws_ranges,
    collections,
    compaction,
    generated,
    land,
    shell,
    timerange,
)
from ingest import status as status_view
from ingest.console import err, human_bytes, out, progress_bar, shown
from ingest.duck import connect
from ingest.lake import Lake, UsageError
from ingest.pull import LOOKBACK_DAYS, PullSummary
from ingest.query import dbt_database
from ingest.sources import local_files

# Options more than one command takes, declared once.
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Start: a day (2026-01-31, UTC, from its first instant) or a time "
        "(2026-01-31T14:00Z; another offset, or none for UTC).",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="End: a day (included to its last instant) or a time (excluded).",
        show_default=False,
    ),
]
LookbackDays = Annotated[
    int | None,
    typer.Option(
        "--lookback-days",
        min=0,
        max=31,
        help="List this many days before each folder's saved position again, for files "
        "CloudTrail delivers after their day is over (objects already landed are skipped). "
        f"Default: the collection's `lookback_days`, else {LOOKBACK_DAYS}.",
        show_default=False,
    ),
]


class _Commands(TyperGroup):
    """Every command: a UsageError raised by the modules (a bad value, a lake held by another
    writer) is a one-line usage error, exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            err.print(f"[red]error:[/] {shown(exc)}")
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Commands,
    name="ingest",
    help="Land raw security logs (AWS CloudTrail) in the trailhouse lake, where dbt builds it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
load_app = typer.Typer(
    help="Land local log files (exports, downloads, test fixtures).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(load_app, name="load")


class _PullGroup(TyperGroup):
    """`ingest pull NAME...`: a word that is not a subcommand names collections."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "collections", self.commands["collections"], args
        return super().resolve_command(ctx, args)


pull_app = typer.Typer(
    cls=_PullGroup,
    help="Collect logs: every collection of `trailhouse.yml` (`ingest pull`), some of them "
    "(`ingest pull NAME...`), or one source given by flags (`ingest pull cloudtrail ...`).",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode="markdown",
)
app.add_typer(pull_app, name="pull")
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The config file (default: TRAILHOUSE_CONFIG or ./trailhouse.yml)."
    ),
]

DestinationOption = Annotated[
    list[str] | None,
    typer.Option(
        "--destination",
        metavar="NAME",
        help="Only this destination of the config (`destinations:`; `webhook` is "
        "`watch.webhook`); repeat for more. Default: all of them.",
        show_default=False,
    ),
]

detections_app = typer.Typer(
    help="The detection library: the generated list `alerts` reads, and the catalog.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(detections_app, name="detections")
sigma_app = typer.Typer(
    help="Sigma rules as an input format: compile them into tested dbt detections.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(sigma_app, name="sigma")
networks_app = typer.Typer(
    help="Reference networks the enrichment names callers' addresses by.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(networks_app, name="networks")


def _version(value: bool) -> None:
    if value:
        out.print(f"ingest {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Land raw security logs in the lake (TRAILHOUSE_LAKE, default ./lake), then `dbt build`."""


def _lake() -> Lake:
    lake = Lake.from_env()
    lake.ensure()
    return lake


def _usage_error(message: str) -> None:
    err.print(f"[red]error:[/] {shown(message)}")
    raise typer.Exit(2)


# -- landing ---------------------------------------------------------------------------------


@load_app.command("cloudtrail")
def load_cloudtrail(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            exists=True,
            readable=True,
            help="Files or directories: CloudTrail .json/.json.gz delivery files, JSON lines, "
            "or `aws cloudtrail lookup-events` output. Directories are searched recursively.",
        ),
    ],
) -> None:
    """Land local CloudTrail files into the lake.

    Rerunning with the same files lands nothing twice. Digest files are skipped; unreadable or
    non-CloudTrail files are quarantined with a reason while everything else lands.
    """
    lake = _lake()
    started = time.monotonic()
    objects, _ = local_files.discover(paths)
    if not objects:
        _usage_error("no .json, .json.gz, .jsonl or .ndjson files found under the given paths")
    summary = land.land_files(lake, objects, "load")
    land.print_landing(summary, time.monotonic() - started)
    if summary.failed:
        raise typer.Exit(1)


def _land_lines(paths: list[Path], line_format, dataset: str, collection: str = "load") -> None:
    """Land line-oriented log files of one format into `landing/<dataset>/`, and report."""
    lake = _lake()
    started = time.monotonic()
    objects, _ = local_files.discover(paths, suffixes=None, cloudtrail=False)
    if not objects:
        _usage_error("no files found under the given paths")
    summary = land.land_files(lake, objects, collection, line_format=line_format, dataset=dataset)
    land.print_landing(summary, time.monotonic() - started)
    if summary.failed:
        raise typer.Exit(1)


@load_app.command("access-log")
def load_access_log(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            exists=True,
            readable=True,
            help="Access log files (plain or gzip, rotated files included) or directories.",
        ),
    ],
    log_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="combined (Apache/nginx default), common, nginx (combined + X-Forwarded-For), "
            "or custom (with --log-format).",
        ),
    ] = "combined",
    custom: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="For --format custom: the server's own format string, Apache `LogFormat` "
            "(e.g. '%h %l %u %t \"%r\" %>s %b %D') or nginx `log_format` ($remote_addr ...).",
        ),
    ] = None,
) -> None:
    """Land web server access logs; `dbt build` turns them into `http_access_log`.

    Times keep the line's own UTC offset and are stored in UTC. A line that does not match the
    format is quarantined with its line number (never dropped) while the rest of the file
    lands; rerunning with the same files lands nothing twice.
    """
    from ingest.sources.access_log import access_log_format

    try:
        line_format = access_log_format(log_format, custom)
    except ValueError as exc:
        _usage_error(str(exc))
    _land_lines(paths, line_format, "http_access_log")


@load_app.command("custom")
def load_custom(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH...", exists=True, readable=True, help="Files or directories."),
    ],
    format_name: Annotated[
        str, typer.Option("--format", help="A format defined under `formats:` in the config.")
    ],
    config: Annotated[
        Path | None,
        typer.Option(help="The config file (default: TRAILHOUSE_CONFIG or ./trailhouse.yml)."),
    ] = None,
) -> None:
    """Land logs of a custom format (a regex with named groups, or JSON lines with a field
    mapping, defined once in `trailhouse.yml`); `dbt build` writes them to `custom_logs`.

    Lines that do not parse are quarantined with their line numbers; the rest lands.
    """
    from ingest.config import default_path
    from ingest.sources.custom_format import custom_format, load_formats

    try:
        formats = load_formats(default_path(config))
    except ValueError as exc:
        _usage_error(str(exc))
    if format_name not in formats:
        _usage_error(
            f"no format {format_name!r} in the config (defined: {', '.join(formats) or 'none'})"
        )
    _land_lines(paths, custom_format(format_name, formats[format_name]), "custom_logs")


# -- pull ------------------------------------------------------------------------------------


@pull_app.callback()
def pull_main(
    ctx: typer.Context,
    since: FromOption = None,
    until: ToOption = None,
    config: ConfigOption = None,
) -> None:
    """Without a subcommand: pull every collection of the config."""
    if ctx.invoked_subcommand is None:
        _pull_collections([], since, until, config)


@pull_app.command("collections", hidden=True)
def pull_named(
    names: Annotated[list[str], typer.Argument(help="Collections of the config.")],
    since: FromOption = None,
    until: ToOption = None,
    config: ConfigOption = None,
) -> None:
    """Pull these collections of the config."""
    _pull_collections(names, since, until, config)


def _pull_collections(
    names: list[str], since: str | None, until: str | None, config_path: Path | None
) -> None:
    config = _load_config(config_path)
    unknown = [n for n in names if n not in config.collections]
    if unknown:
        _usage_error(
            f"no collection {', '.join(map(repr, unknown))} in {config.path.name} "
            f"(defined: {', '.join(config.collections) or 'none'})"
        )
    chosen = names or list(config.collections)
    if not chosen:
        _usage_error(f"{config.path.name} defines no collections")
    span = timerange.parse(since, until)
    start, end = span.first_day, span.last_day
    lake = _lake()
    con = connect(lake)

    def report(outcome) -> None:
        mark = "[green]ok[/]" if outcome.ok else "[red]failed[/]"
        out.print(
            f"{mark} {outcome.name} ({outcome.type}): {outcome.objects:,} object(s), "
            f"{outcome.records:,} record(s), {human_bytes(outcome.bytes_read)}"
            + (f", {outcome.quarantined} quarantined" if outcome.quarantined else "")
            + (f" — {outcome.error}" if outcome.error else ""),
            soft_wrap=True,
        )

    try:
        with land.writing(lake, "ingest pull"):
            outcomes = collections.pull_all(config, chosen, lake, con, start, end, report)
            compaction.compact_landing(lake, con, min_files=compaction.AUTO_MIN_FILES)
            compaction.compact_state(lake, con, min_files=compaction.AUTO_MIN_FILES)
    finally:
        con.close()
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        err.print(f"[red]{len(failed)} collection(s) failed:[/] {', '.join(failed)}")
        raise typer.Exit(1)
    out.print("Next: [bold]dbt build[/] to update the lake datasets.")


@pull_app.command("cloudtrail")
def pull_cloudtrail(
    bucket: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="S3 bucket the trail delivers to.", show_default=False),
    ] = None,
    prefix: Annotated[str, typer.Option(help="Key prefix the trail was configured with.")] = "",
    org_id: Annotated[
        str | None,
        typer.Option(help="Only this organization trail's accounts (o-...).", show_default=False),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ID", help="Only these account ids (repeat the option).", show_default=False
        ),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            metavar="REGION", help="Only these regions (repeat the option).", show_default=False
        ),
    ] = None,
    from_: FromOption = None,
    to: ToOption = None,
    profile: Annotated[
        str | None, typer.Option(help="AWS profile (else the standard credential chain).")
    ] = None,
    sqs_queue_url: Annotated[
        str | None,
        typer.Option(
            help="Consume S3 or CloudTrail (SNS) object notifications from this SQS queue "
            "instead of listing the bucket.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=128, help="Concurrent S3 requests.")] = 16,
    insights: Annotated[
        bool, typer.Option("--insights", help="Also collect CloudTrail-Insight files.")
    ] = False,
    max_messages: Annotated[
        int | None,
        typer.Option(min=1, help="SQS: stop after this many messages.", show_default=False),
    ] = None,
    until_empty: Annotated[
        bool,
        typer.Option(
            "--until-empty/--forever", help="SQS: stop when the queue is empty (for cron)."
        ),
    ] = True,
    delete: Annotated[
        bool,
        typer.Option(
            "--delete/--no-delete", help="SQS: delete messages once their objects landed."
        ),
    ] = True,
    wait_seconds: Annotated[
        int, typer.Option(min=0, max=20, help="SQS: long-poll wait per receive.")
    ] = 20,
    lookback_days: LookbackDays = None,
) -> None:
    """Collect CloudTrail from an S3 bucket (or its SQS notifications) into the lake.

    Lists only the day folders of the requested range in every account and region (organization
    trails included), fetches only objects not landed before, and keeps its progress in the lake,
    so the next run, from any machine, continues where this one stopped. Failed objects are
    reported (exit 1) and retried on the next run.

    Without `--from`: from where the last run stopped (less `--lookback-days`), or 7 days ago
    on the first run; an earlier `--from` backfills. `--to` defaults to today (UTC).
    """
    if not bucket and not sqs_queue_url:
        _usage_error("give --bucket to list a bucket, or --sqs-queue-url to consume notifications")
    span = timerange.parse(from_, to)
    start, end = span.first_day, span.last_day
    if start and start > (end or datetime.now(UTC).date()):
        _usage_error("--from is after --to (which defaults to today, UTC)")
    lake = _lake()
    started = time.monotonic()
    con = connect(lake)
    try:
        with progress_bar("pulling", total=None, unit="objects") as (progress, task):

            def advance(objects: int, size: int, records: int) -> None:
                progress.update(
                    task, advance=objects, detail=f"{human_bytes(size)} · +{records:,} records"
                )

            options = collections.PullOptions(
                workers=workers, insights=insights, lookback_days=lookback_days,
                max_messages=max_messages, until_empty=until_empty, delete=delete,
                wait_seconds=wait_seconds, progress=advance,
            )  # fmt: skip
            config, name = collections.from_flags(
                bucket, prefix, org_id, account, region, sqs_queue_url, profile
            )
            summary = _puller(lake, con, config, name, options, start, end)()
    finally:
        con.close()
    _print_pull(summary, bool(sqs_queue_url), time.monotonic() - started)
    if not summary.ok:
        raise typer.Exit(1)


def _puller(
    lake: Lake,
    con,
    config,
    name: str,
    options,
    start: date | None = None,
    end: date | None = None,
) -> Callable[[], PullSummary]:
    """One pull of a CloudTrail collection (a bucket by its day folders and cursors, or an SQS
    queue), landed and compacted under the lake's lease: what `ingest pull cloudtrail` does
    once and `ingest watch` every interval."""

    def pull_once() -> PullSummary:
        with land.writing(lake, "ingest pull"):
            summary = collections.pull_one(config, name, lake, con, start, end, options)
            land.auto_compact(lake, con, summary.landing)
        return summary

    return pull_once


def _print_pull(summary: PullSummary, from_queue: bool, seconds: float) -> None:
    if from_queue:
        out.print(
            f"[bold]Messages[/] {summary.messages:,} received · {summary.messages_deleted:,} "
            f"deleted · {len(summary.messages_kept):,} kept in the queue"
        )
    else:
        out.print(
            f"[bold]Listed[/] {len(summary.listed_prefixes):,} day folder(s) in "
            f"{summary.leaves:,} account/region folder(s)"
        )
    out.print(
        f"Objects: {summary.listed_objects:,} seen · {summary.not_log_objects:,} not CloudTrail "
        f"log files · {summary.already_landed:,} already landed · {summary.downloaded:,} "
        f"downloaded ({human_bytes(summary.downloaded_bytes)})"
    )
    land.print_landing(summary.landing, seconds)
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {shown(warning)}")
    problems = [*summary.failed, *summary.messages_kept]
    if problems:
        table = Table(
            title=f"Not collected ({len(problems)}); retried on the next run", title_justify="left"
        )
        table.add_column("object or message", overflow="fold")
        table.add_column("reason", overflow="fold")
        for item, reason in problems:
            table.add_row(shown(item), shown(reason))
        out.print(table)


# -- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    events: Annotated[
        int | None, typer.Option(min=1, help="Number of CloudTrail records.  [default: 50000]")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days of history.  [default: 7]")
    ] = None,
    accounts: Annotated[
        int | None, typer.Option(min=2, max=500, help="AWS accounts.  [default: 3]")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.  [default: 7]")] = None,
    end: Annotated[
        str | None,
        typer.Option(help="End of the generated range (UTC).  [default: the current hour]"),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Regenerate, removing the previous demo's records.")
    ] = False,
) -> None:
    """Generate realistic synthetic CloudTrail with labelled attacks, and land it.

    Files use the S3 delivery layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/...) under
    <lake>/_sources/demo/, with digest files that landing skips. The same options always give
    the same data; rerunning with no options reuses the dataset already in the lake.
    """
    from ingest import demo as demo_run

    requested = {"events": events, "days": days, "accounts": accounts, "seed": seed, "end": end}
    demo_run.run(_lake(), {k: v for k, v in requested.items() if v is not None}, replace)


# -- compact ---------------------------------------------------------------------------------


@app.command()
def compact(
    min_files: Annotated[
        int, typer.Option(min=2, help="Compact a partition once it holds this many files.")
    ] = 2,
) -> None:
    """Merge small landing files, per event_date partition, into files of up to 256 MB.

    Landing commands already do this for partitions with 32 files or more. Rows, and when they
    landed, do not change, so the next `dbt build` has nothing to redo for compacted partitions.
    """
    lake = _lake()
    con = connect(lake)
    try:
        with land.writing(lake, "ingest compact"):
            merged = compaction.compact_landing(lake, con, min_files=min_files)
            records = compaction.compact_state(lake, con, min_files=min_files)
    finally:
        con.close()
    out.print(
        f"Compacted {len(merged.partitions)} landing partition(s): {merged.files_before:,} files "
        f"into {merged.files_after:,}; {records:,} input-record files merged."
    )


# -- networks --------------------------------------------------------------------------------


@networks_app.command("aws-ranges")
def networks_aws_ranges(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", exists=True, dir_okay=False, help="Read a downloaded ip-ranges.json."
        ),
    ] = None,
    url: Annotated[str, typer.Option(help="Where AWS publishes the ranges.")] = aws_ranges.URL,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Load AWS's published address ranges into the seed `seeds/aws_ip_ranges.csv`, so calls
    from AWS addresses (an instance's NAT gateway or public IP, a Lambda) get
    `source_network_trust = aws`. Then `dbt build`.

    Offline, download https://ip-ranges.amazonaws.com/ip-ranges.json elsewhere and pass
    `--file`; until the seed is loaded, "instance credentials used outside AWS" tells an
    instance's own address by the role's history of addresses instead."""
    seed = project / aws_ranges.SEED
    try:
        raw = file.read_bytes() if file else aws_ranges.download(url)
        ranges = aws_ranges.parse(raw)
    except (OSError, aws_ranges.RangesError) as error:
        kept = max(0, len(seed.read_text().splitlines()) - 1) if seed.is_file() else 0
        err.print(
            f"[red]AWS ranges not loaded[/] from {shown(str(file or url))}: "
            f"{shown(str(error))}\nThe seed keeps its {kept} prefixes. Offline: download "
            f"{aws_ranges.URL} elsewhere and run `ingest networks aws-ranges --file PATH`."
        )
        raise typer.Exit(1) from None
    path = aws_ranges.write_seed(project, ranges)
    ipv6 = sum(":" in cidr for cidr, _, _ in ranges.rows)
    out.print(
        f"Wrote {len(ranges.rows)} prefixes ({ipv6} IPv6) of {shown(ranges.created)} "
        f"to {path}. Next: `dbt build`."
    )


# -- detections ------------------------------------------------------------------------------


@detections_app.command("sync")
def detections_sync(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if a file is out of date (CI).")
    ] = False,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Regenerate what is derived from the detection files under `models/detections/`:
    `macros/detection_models.sql` (the detections `alerts` reads) and the catalog
    (`detections/COVERAGE.md` and its dbt docs page, by ATT&CK tactic and technique).

    Run it after adding, renaming or removing a detection; `dbt build` fails while a detection
    model is missing from the list."""
    try:
        stale = generated.refresh(project, check)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if check and stale:
        err.print(
            "[red]out of date:[/] "
            + ", ".join(str(p) for p in stale)
            + " (run `ingest detections sync`)"
        )
        raise typer.Exit(1)
    if stale:
        out.print(f"Wrote {', '.join(str(p) for p in stale)}.")
    else:
        out.print("Generated detection files are up to date.")


@detections_app.command("coverage")
def detections_coverage(
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Exit 1 if a detection lacks a kind of test (CI, `make lint`)."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts and gaps as JSON.")
    ] = False,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Count the detection library (detections per source, ATT&CK techniques, unit tests, raw
    CloudTrail samples) and list every detection lacking a kind of test: one that fires, one
    that must not, an edge case (a third test), and for CloudTrail a raw sample
    (`tests/detections/<model>.json`). The full catalog is `detections/COVERAGE.md`."""
    import json

    from ingest import coverage

    detections = coverage.load(project)
    counts = coverage.totals(detections)
    gaps = {d.detection_id: missing for d in detections if (missing := d.missing())}
    if as_json:
        out.print_json(json.dumps({"totals": counts, "gaps": gaps}))
    else:
        table = Table(title="Detection coverage")
        table.add_column("")
        table.add_column("count", justify="right")
        for name, count in counts.items():
            table.add_row(name, f"{count:,}")
        out.print(table)
        for detection_id, missing in gaps.items():
            out.print(f"  {shown(detection_id)}: no {', no '.join(missing)}", soft_wrap=True)
    if check and gaps:
        err.print(f"[red]{len(gaps)} detection(s) lack a kind of test[/]")
        raise typer.Exit(1)


@detections_app.command("diff")
def detections_diff(
    base_ref: Annotated[str, typer.Argument(help="The revision to compare with (origin/main).")],
    head_ref: Annotated[
        str | None,
        typer.Argument(
            help="The revision with the change (default: the working tree).", show_default=False
        ),
    ] = None,
    threshold: Annotated[
        int,
        typer.Option(
            min=0, help="Alerts a detection's count may move by (see --threshold-percent)."
        ),
    ] = 5,
    threshold_percent: Annotated[
        float, typer.Option(min=0, help="... and percent of its base count it may move by.")
    ] = 25.0,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Only the lake's last DAYS days of input (a sample).", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    project: Annotated[
        Path,
        typer.Option(
            help="The trailhouse project directory (in a git repository).", file_okay=False
        ),
    ] = Path("."),
) -> None:
    """Build the alerts of two git revisions over the same lake (TRAILHOUSE_LAKE, read only:
    each build runs in a scratch copy under the temp dir) and print, per detection, the alerts
    added, removed and changed. Exit 1 when a detection's alert count moves by more than
    `--threshold` alerts and more than `--threshold-percent` of its base count (0 and 0: any
    move), or a revision fails to build; 2 for a ref that names no commit."""
    import json

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ingest import detection_diff

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task("detections diff", detail="")
        try:
            result = detection_diff.run(
                project,
                base_ref,
                head_ref,
                threshold=threshold,
                threshold_percent=threshold_percent,
                days=days,
                on_step=lambda step: progress.update(task, description=step, detail=""),
                on_line=lambda line: progress.update(task, detail=shown(line[-100:])),
            )
        except detection_diff.DiffError as error:
            err.print(f"[red]error:[/] {shown(error)}", soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        out.print_json(json.dumps(result.to_json(), default=str))
    else:
        detection_diff.render(result, out)
    if result.over_threshold:
        raise typer.Exit(1)


@detections_app.command("check")
def detections_check(
    variables: Annotated[
        str | None,
        typer.Option(
            "--vars",
            help="dbt's --vars (YAML or JSON) to check as they would apply on top of "
            "dbt_project.yml, e.g. '{detections: {aws-access-denied-burst: {enabled: false}}}'.",
        ),
    ] = None,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Check the detection tuning, the dbt vars `detections` and `severity_rules`: their shape
    (trailhouse.schema.json), that every id names a detection and every parameter is one that
    detection reads (`detection_param` in its SQL), of the right kind. Exit 1 naming each
    problem and its line. `dbt build` refuses bad tuning too; this runs without dbt, for an
    editor or CI."""
    from ingest import tuning

    problems = tuning.check(project, variables)
    for problem in problems:
        err.print(f"[red]error:[/] {shown(problem)}", soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print("Detection tuning is valid.")


# -- sigma -------------------------------------------------------------------------------------


@sigma_app.command("import")
def sigma_import(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Sigma rule files (.yml) or directories of them.", exists=True),
    ],
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if the models differ from the rules."),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Also remove imported models whose rule is not given."),
    ] = False,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project directory.", file_okay=False)
    ] = Path("."),
) -> None:
    """Compile Sigma rules for AWS CloudTrail into detection models under
    `models/detections/sigma/`: one model per rule, its meta (severity, ATT&CK, provenance)
    and two generated unit tests (a true positive from the selection, a true negative from
    the filter). Their alerts land in `alerts` with the native detections'.

    A rule that cannot be compiled is listed with the reason and writes nothing. Re-importing
    is idempotent; a changed rule updates its model. Run `dbt build` afterwards."""
    from ingest.sigma import importer

    outcomes = importer.read(paths)
    changes = importer.plan(project, outcomes, prune)
    compiled = [o for o in outcomes if not o.error]
    listed = [o for o in compiled if o.status != "unchanged" or o.warnings]
    if listed:
        table = Table(title="Sigma import" + (" (check)" if check else ""))
        for column in ("rule", "model", "result"):
            table.add_column(column, overflow="fold")
        for outcome in sorted(listed, key=lambda o: o.source.name):
            notes = "".join(f"; [yellow]{shown(w)}[/]" for w in outcome.warnings)
            table.add_row(shown(outcome.source.name), outcome.model, outcome.status + notes)
        out.print(table)
    for outcome in sorted(outcomes, key=lambda o: o.source.name):
        if outcome.error:
            out.print(
                f"[red]not compiled[/] {outcome.source.name}: {outcome.error}", soft_wrap=True
            )
    removed = sorted(p.stem for p, c in changes.items() if c is None and p.suffix == ".sql")
    counts = {s: sum(o.status == s for o in compiled) for s in ("created", "updated", "unchanged")}
    out.print(
        f"{len(outcomes)} rule(s): {len(compiled)} compiled ({counts['created']} new, "
        f"{counts['updated']} changed, {counts['unchanged']} unchanged), "
        f"{len(outcomes) - len(compiled)} not compiled"
        + (f"; {len(removed)} model(s) to remove: {', '.join(removed)}" if removed else "")
    )
    if check:
        if changes:
            err.print(f"[red]{len(changes)} file(s) differ from the rules[/] (run without --check)")
            raise typer.Exit(1)
        return
    importer.apply(project, changes)
    generated.refresh(project)
    if changes:
        out.print(
            f"Wrote {len(changes)} file(s). Next: `dbt build` (or `dbt test --select "
            "tag:detection` for the unit tests)."
        )


# -- query -------------------------------------------------------------------------------------


def _print_table(columns: list[str], rows: list[tuple], limit: int) -> None:
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows[:limit]:
        table.add_row(*(shown(v) for v in row))
    out.print(table)
    cut = f"{limit:,} of " if len(rows) > limit else ""
    out.print(f"{cut}{len(rows):,} row(s)" + (" (--limit to show more)" if cut else ""))


@app.command()
def query(
    sql: Annotated[
        str | None,
        typer.Argument(
            metavar="[QUERY]",
            help="SQL, a .sql file, or the name of an analysis (`analyses/<name>.sql`). "
            "Without it: an interactive shell (statements end with `;`).",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="table, csv, json, jsonl or parquet.")
    ] = "table",
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (needed for parquet).")
    ] = None,
    since: FromOption = None,
    until: ToOption = None,
    variables: Annotated[
        list[str] | None,
        typer.Option("--var", help="An analysis variable, NAME=VALUE (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows drawn by --output table.")] = 200,
    list_all: Annotated[
        bool, typer.Option("--list", help="List the tables, views and analyses.")
    ] = False,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project (for analyses/).", file_okay=False)
    ] = Path("."),
) -> None:
    """Query the lake with SQL, without dbt. Every lake dataset is a table (`cloudtrail_events`,
    `alerts`, `http_access_log`, ...) and the dbt views (`events`, `events_ecs`, `ocsf_*`,
    detections) are there too once `dbt build` has run. `--from/--to` restrict every dataset to
    those days, so only their partitions are read.

    Examples: `ingest query "select count(*) from cloudtrail_events"` ·
    `ingest query top_api_calls --from 2026-01-01 -o csv` ·
    `ingest query principal_timeline --var principal=alice -o jsonl`
    """
    from ingest import query as lake_query

    if output not in lake_query.OUTPUTS:
        _usage_error(f"--output must be one of {', '.join(lake_query.OUTPUTS)}")
    pairs = {}
    for item in variables or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            _usage_error(f"--var takes NAME=VALUE, not {item!r}")
        pairs[name] = value
    span = timerange.parse(since, until)
    lake = _lake()
    con = connect(lake)
    try:
        catalog = lake_query.register(con, lake, dbt_database(), span)
    except duckdb.Error as exc:
        err.print(f"[red]cannot open the lake:[/] {shown(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from None
    if catalog.skipped_views.get("*"):
        err.print(f"[yellow]dbt views not available:[/] {catalog.skipped_views['*']}")

    def run_one(text: str) -> None:
        template, _name = lake_query.resolve_query(text.strip(), project)
        try:
            rendered = lake_query.render(template, pairs)
            result = lake_query.write(con, rendered, output, sys.stdout, out_path)
        except (ValueError, jinja2.TemplateError) as exc:
            _usage_error(str(exc))
        except duckdb.Error as exc:
            err.print(f"[red]query failed:[/] {shown(exc)}")
            raise typer.Exit(1) from None
        if isinstance(result, tuple):
            _print_table(*result, limit)
        elif out_path:
            err.print(f"Wrote {result:,} row(s) to {out_path}")

    if list_all:
        out.print("[bold]datasets[/] " + ", ".join(sorted(catalog.datasets)))
        out.print("[bold]views[/] " + ", ".join(catalog.views))
        out.print("[bold]analyses[/] " + ", ".join(lake_query.list_analyses(project)))
        return
    if sql is not None:
        run_one(sql)
        return
    shell.run(catalog, project, run_one)


# -- watch -------------------------------------------------------------------------------------

watch_app = typer.Typer(
    help="Near-real-time: pull, build and send alerts in a loop.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(watch_app, name="watch")


@watch_app.command("cloudtrail")
def watch_cloudtrail(
    bucket: Annotated[
        str | None, typer.Option(metavar="NAME", help="S3 bucket the trail delivers to.")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Key prefix the trail was configured with.")] = "",
    org_id: Annotated[str | None, typer.Option(help="Only this organization's accounts.")] = None,
    account: Annotated[list[str] | None, typer.Option(metavar="ID", help="Only these.")] = None,
    region: Annotated[list[str] | None, typer.Option(metavar="REGION", help="Only these.")] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
    sqs_queue_url: Annotated[
        str | None, typer.Option(help="Consume object notifications from this SQS queue.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=128, help="Concurrent S3 requests.")] = 16,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between pulls.")] = 60,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Also append alerts (JSON lines) to this file.")
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            envvar="TRAILHOUSE_WEBHOOK_URL",
            show_envvar=True,
            show_default=False,
            help="POST each alert (JSON) here, at least once: alerts wait in the lake's outbox "
            "until the receiver acknowledges them. A secret (Slack and Teams put their token "
            "in it): prefer the environment variable or `watch.webhook: ${NAME}` in the "
            "config; it is only ever shown as scheme://host/….",
        ),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Watch this collection of the config (a cloudtrail_s3 bucket or cloudtrail_sqs "
            "queue) instead of --bucket / --sqs-queue-url.",
            show_default=False,
        ),
    ] = None,
    retry_undelivered: Annotated[
        bool,
        typer.Option(
            "--retry-undelivered",
            help="First put the alerts the webhook refused (`ingest status` counts them) back "
            "in the outbox, to send them again.",
        ),
    ] = False,
    config: ConfigOption = None,
    destination: DestinationOption = None,
    stdout: Annotated[
        bool, typer.Option("--stdout/--no-stdout", help="Alerts as JSON lines on stdout.")
    ] = True,
    send_existing: Annotated[
        bool,
        typer.Option(
            "--send-existing", help="On the first run, also send the alerts already in the lake."
        ),
    ] = False,
    cycles: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many cycles (default: run on).")
    ] = None,
    project: Annotated[
        Path, typer.Option(help="The trailhouse dbt project.", file_okay=False)
    ] = Path("."),
    lookback_days: LookbackDays = None,
    build_timeout: Annotated[
        float,
        typer.Option(
            min=1,
            help="Seconds a cycle's dbt build may take before it is "
            "stopped (the next cycle builds again).",
        ),
    ] = 3600,
) -> None:
    """Pull new CloudTrail every `--interval`, run the incremental `dbt build` of the lake and
    what depends on it, and send each new or updated alert: stdout, `--out` file, `--webhook`,
    and every `destinations:` entry of the config whose filters match it.
    What was sent is kept in the lake, so a restart sends nothing twice; alerts wait in each
    destination's outbox in the lake until acknowledged, so a kill or a slow receiver loses none.
    Stops cleanly on Ctrl-C / SIGTERM (after the current cycle; the outbox gets 30 s, and what
    is left is sent by the next start)."""
    import signal
    import threading

    from ingest.delivery import check_url
    from ingest.routing import Route, Sender
    from ingest.watch import Watcher

    if not (bucket or sqs_queue_url or collection):
        _usage_error(
            "give --bucket to list a bucket, --sqs-queue-url to consume notifications, or "
            "--collection NAME of the config"
        )
    if webhook and (problem := check_url(webhook)):
        _usage_error(f"--webhook (or TRAILHOUSE_WEBHOOK_URL): {problem}")
    targets = _destinations(config, destination, webhook)
    if retry_undelivered and not targets:
        _usage_error("--retry-undelivered needs a destination (--webhook, TRAILHOUSE_WEBHOOK_URL, "
                     "watch.webhook or destinations: in the config)")  # fmt: skip
    lake = _lake()
    con = connect(lake)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if collection:
        config_file = _load_config(config)
        if collection not in config_file.collections:
            _usage_error(f"no collection {collection!r} in {config_file.path.name}")
        if config_file.collections[collection]["type"] not in ("cloudtrail_s3", "cloudtrail_sqs"):
            _usage_error(f"collection {collection!r} is not a CloudTrail bucket or queue")
        name = collection
        # the filters the build applies are the ones this watch collects with
        with land.writing(lake, "ingest watch"):
            collections.record_filters(config_file, lake)
    else:
        config_file, name = collections.from_flags(
            bucket, prefix, org_id, account, region, sqs_queue_url, profile
        )
    options = collections.PullOptions(workers=workers, lookback_days=lookback_days)
    pull_once = _puller(lake, con, config_file, name, options)
    streams = [sys.stdout.buffer] if stdout else []
    file = out_path.open("ab") if out_path else None
    if file:
        streams.append(file)
    routes = [Route.of(lake, target) for target in targets]
    if retry_undelivered:
        for item in routes:
            moved = item.outbox.retry_undelivered()
            err.print(f"{item.name}: {moved} undelivered alert(s) back in the outbox")
    senders = [Sender(item) for item in routes]
    watcher = Watcher(
        lake, con, pull_once, project.resolve(), streams, senders, send_existing,
        dbt=str(Path(sys.executable).with_name("dbt")), build_timeout=build_timeout,
    )  # fmt: skip
    try:
        failed = watcher.run(interval, cycles, stop)
    finally:
        for sender in senders:
            sender.close()
        if file:
            file.close()
        con.close()
    if failed and cycles:
        raise typer.Exit(1)


def _destinations(path: Path | None, names: list[str] | None, webhook: str | None = None):
    """The destinations alerts go to: `--webhook` (which stands for `watch.webhook`), then the
    config's (when there is a config), narrowed to `names` (`--destination`)."""
    from ingest import destinations
    from ingest.config import default_path

    found = []
    if path is not None or default_path().is_file():
        found = destinations.from_config(_load_config(path))
    if webhook:
        found = [destinations.webhook(webhook)] + [
            d for d in found if d.name != destinations.LEGACY
        ]
    if names:
        known = {d.name for d in found}
        unknown = [n for n in names if n not in known]
        if unknown:
            _usage_error(
                f"no destination named {', '.join(map(repr, unknown))} "
                f"(configured: {', '.join(sorted(known)) or 'none'})"
            )
        found = [d for d in found if d.name in names]
    return found


# -- replay ------------------------------------------------------------------------------------


@app.command()
def report(
    since: FromOption = None,
    until: ToOption = None,
    day: Annotated[
        str | None, typer.Option(help="One day (YYYY-MM-DD): the same as --from DAY --to DAY.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Directory for the pages [default: build/report/all, /DAY or /FROM_TO]."
        ),
    ] = None,
    project: Annotated[
        Path, typer.Option(help="The trailhouse project (for analyses/).", file_okay=False)
    ] = Path("."),
) -> None:
    """Render a static HTML report of the lake: alerts over time, alerts with their triage
    status (filter open/acknowledged/closed on the page), ATT&CK coverage
    and hits, top principals, APIs, addresses and countries, failed calls, console sign-ins,
    IAM/S3/security-group/logging changes, and a page per principal and address. It opens from
    disk with no network; every number is an analysis `ingest query NAME` also runs.

    Examples: `ingest report --day 2026-11-25` · `ingest report --from 2026-11-01 --to 2026-11-30`
    """
    import os

    from ingest import query as lake_query
    from ingest import report as lake_report

    if day and (since or until):
        _usage_error("--day cannot be combined with --from/--to")
    span = timerange.parse(day, day) if day else timerange.parse(since, until)
    start, end = span.first_day, span.last_day
    name = "all" if not (start or end) else f"{start or 'start'}_{end or 'now'}"
    if start and start == end:
        name = str(start)
    target = out_dir or project / "build" / "report" / name
    lake = _lake()
    con = connect(lake)
    try:
        catalog = lake_query.register(con, lake, dbt_database(), span)
    except duckdb.Error as exc:
        err.print(f"[red]cannot open the lake:[/] {shown(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from None
    if "alerts" not in catalog.datasets or "cloudtrail_events" not in catalog.datasets:
        err.print(
            "[red]nothing to report:[/] the lake has no alerts or cloudtrail_events yet "
            "(run `dbt build`)"
        )
        raise typer.Exit(1)
    if catalog.skipped_views.get("*") or "events" not in catalog.views:
        err.print(
            "[red]the dbt views are not available[/] (run `dbt build`; the address pages "
            "read the `events` view)"
        )
        raise typer.Exit(1)
    docs_index = Path(os.environ.get("DBT_TARGET_PATH") or project / "target") / "static_index.html"
    docs = os.path.relpath(docs_index, target) if docs_index.exists() else None
    with err.status("Rendering the report ..."):
        try:
            result = lake_report.build(con, project, target, start, end, docs)
        except duckdb.Error as exc:
            err.print(f"[red]query failed:[/] {shown(str(exc).splitlines()[0])}")
            raise typer.Exit(1) from None
    counts = result.sections["open_alerts"].status_counts()
    out.print(
        f"Report: {result.out / 'index.html'} · {counts['open']} open alert(s) "
        f"({counts['acknowledged']} acknowledged, {counts['closed']} closed) · "
        f"{len(result.principals)} principal and {len(result.addresses)} address page(s)"
        + ("" if docs else " · no dbt docs link (run `make docs`)")
    )


@app.command()
def replay(
    dataset: Annotated[
        str,
        typer.Option(
            help="cloudtrail_events (the original records), events (the event shell) or "
            "http_access_log."
        ),
    ] = "cloudtrail_events",
    since: FromOption = None,
    until: ToOption = None,
    where: Annotated[
        str | None, typer.Option(help="A SQL filter on the dataset's columns.")
    ] = None,
    speed: Annotated[
        float,
        typer.Option(min=0, help="1 = real time, 10 = ten times faster, 0 = as fast as possible."),
    ] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write JSON lines to this file.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="POST JSON lines (application/x-ndjson) to this HTTP endpoint."),
    ] = None,
    into_landing: Annotated[
        bool,
        typer.Option(
            "--into-landing",
            help="Land the range again as new CloudTrail records (new eventIDs), so "
            "detections see it as live data on the next dbt build.",
        ),
    ] = False,
    shift_to_now: Annotated[
        bool,
        typer.Option(help="With --into-landing: move the times so the first event is now."),
    ] = False,
) -> None:
    """Stream stored events in event-time order as JSON lines (stdout, a file, or an HTTP
    endpoint), at the speed they happened or faster. Read one day at a time, so memory stays
    flat for any range."""
    from ingest import query as lake_query
    from ingest import replay as replaying

    lake = _lake()
    span = timerange.parse(since, until)
    start, end = span.first_day, span.last_day
    con = connect(lake)
    lake_datasets = ["cloudtrail_events", "http_access_log"]
    if dataset == "events":
        catalog = lake_query.register(con, lake, dbt_database())
        if "events" not in catalog.views:
            _usage_error("the events view is not built yet: run `dbt build` first")

        def relation_for(files: dict[str, list[str]]) -> str:
            # the lake views under `events` see one day at a time
            for name in lake_datasets:
                if name in catalog.datasets:
                    first = next(iter(catalog.datasets[name].values()))[0]
                    lake_query.point_view(con, name, files.get(name, []), schema_from=first)
            return "events"

        select, days = "*", replaying.day_files(con, lake, lake_datasets, start, end)
    elif dataset in lake_datasets:

        def relation_for(files: dict[str, list[str]]) -> str:
            return lake_query.read_files(files[dataset])

        select = "event_time, event_id, raw" if dataset == "cloudtrail_events" else "*"
        days = replaying.day_files(con, lake, [dataset], start, end)
    else:
        _usage_error("--dataset must be cloudtrail_events, events or http_access_log")
    if into_landing and dataset != "cloudtrail_events":
        _usage_error("--into-landing replays cloudtrail_events")
    rows = replaying.stream(con, days, relation_for, where, select, span=span)
    try:
        if into_landing:
            with land.writing(lake, "ingest replay --into-landing"):
                replaying.into_landing(lake, con, rows, shift_to_now)
            return
        if not replaying.send(rows, dataset, speed, out_path, url):
            raise typer.Exit(1)
    except duckdb.Error as exc:
        err.print(f"[red]replay failed:[/] {shown(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from None
    finally:
        con.close()


# -- config ------------------------------------------------------------------------------------

config_app = typer.Typer(
    help="The config file (`trailhouse.yml`): connections, collections, custom formats.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(config_app, name="config")


def _load_config(path: Path | None):
    from ingest import config as configuration

    try:
        return configuration.load(configuration.default_path(path))
    except configuration.ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/] {shown(problem)}", soft_wrap=True)
        raise typer.Exit(2) from None


@config_app.command("validate")
def config_validate(config: ConfigOption = None) -> None:
    """Check the config: its shape (trailhouse.schema.json), no secrets inline, references
    between connections, collections and formats, `${ENV}` variables that are set, filters
    that DuckDB can parse, and AWS profiles that exist on this machine."""
    import boto3

    from ingest import config as configuration

    loaded = _load_config(config)
    missing = configuration.check_profiles(loaded, boto3.session.Session().available_profiles)
    for problem in missing:
        err.print(f"[red]error:[/] {shown(problem)}", soft_wrap=True)
    if missing:
        raise typer.Exit(2)
    out.print(
        f"{loaded.path}: {len(loaded.connections)} connection(s), "
        f"{len(loaded.collections)} collection(s), {len(loaded.formats)} format(s), "
        f"{len(loaded.destinations)} destination(s) — valid."
    )


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the config as it will be used: `${ENV}` references resolved (secrets never
    appear in this file; values of variables whose names look secret are redacted)."""
    import yaml

    from ingest import config as configuration

    loaded = _load_config(config)
    resolved = {
        "connections": configuration.redacted(loaded.connections),
        "collections": configuration.redacted(loaded.collections),
        "formats": loaded.formats,
        # endpoints and routing keys are secrets: shown as written (`${NAME}`), never resolved
        "destinations": loaded.destinations,
    }
    out.print(yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True), end="", markup=False)


# -- alerts (triage) ---------------------------------------------------------------------------


class _AlertCommands(TyperGroup):
    """A triage command that cannot be done (an unknown alert id, a transition that changes
    nothing) is one line on stderr, exit code 1."""

    def invoke(self, ctx):
        from ingest.triage import TriageError

        try:
            return super().invoke(ctx)
        except TriageError as exc:
            err.print(f"[red]error:[/] {shown(exc)}")
            raise typer.Exit(1) from None


alerts_app = typer.Typer(
    cls=_AlertCommands,
    help="Triage alerts: list them with their status, acknowledge, close, reopen, assign, "
    "suppress; send them to the config's destinations. The history is kept in the lake "
    "(`alert_triage`, append-only); an alert with no history is `open`, and a closed alert "
    "that gets new events reads as `open` again.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(alerts_app, name="alerts")

AlertIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ALERT_ID",
        help="The alert's `alert_id` (or its first 6 or more characters).",
        show_default=False,
    ),
]
NoteOption = Annotated[
    str | None,
    typer.Option("--note", help="Why: kept in the alert's history.", show_default=False),
]
AssigneeOption = Annotated[
    str | None,
    typer.Option(
        "--assignee",
        help='Who owns the alert from now on (default: unchanged; "" unassigns).',
        show_default=False,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who is acting, for the history (default: $TRAILHOUSE_ACTOR, else the OS user).",
        show_default=False,
    ),
]
AlertsJsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow"}
_STATUS_STYLE = {"open": "bold", "acknowledged": "cyan", "closed": "dim"}


def _styled(value: object, styles: dict[str, str]) -> str:
    style = styles.get(str(value), "")
    return f"[{style}]{shown(value)}[/]" if style else shown(value)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def _print_json(value: object) -> None:
    from ingest.query import to_json

    sys.stdout.write(to_json(value).decode() + "\n")


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        _usage_error(f"{name} must be one of {', '.join(allowed)}")


@alerts_app.command("list")
def alerts_list(
    status: Annotated[
        str | None,
        typer.Option(help="Only alerts with this status: open, acknowledged or closed."),
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="Only this severity: critical, high, medium, low, info.")
    ] = None,
    detection: Annotated[
        str | None, typer.Option(help="Only this detection_id.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many alerts.")] = 50,
    include_suppressed: Annotated[
        bool, typer.Option("--suppressed", help="Include suppressed alerts.")
    ] = False,
    as_json: AlertsJsonOption = False,
) -> None:
    """List alerts, newest first, with their triage status and assignee.

    Example: `ingest alerts list --status open --severity high`
    """
    from ingest import triage

    _choice("--status", status, triage.STATUSES)
    _choice("--severity", severity, triage.SEVERITIES)
    rows = triage.Triage(_lake()).list(status, severity, detection, limit, include_suppressed)
    if as_json:
        _print_json(rows)
        return
    table = Table(title="Alerts (newest first)", title_justify="left")
    for column in ("alert_id", "severity", "status", "assignee", "detection", "principal",
                   "source", "events", "last seen"):  # fmt: skip
        table.add_column(
            column,
            overflow="fold",
            justify="right" if column == "events" else "left",
            no_wrap=column in {"alert_id", "severity", "status", "last seen"},
        )
    for row in rows:
        status_text = _styled(row["status"], _STATUS_STYLE)
        if row["status_reason"]:
            status_text += f" ({shown(row['status_reason'])})"
        table.add_row(
            shown(row["alert_id"]), _styled(row["severity"], _SEVERITY_STYLE), status_text,
            shown(row["assignee"]), shown(row["detection_id"]), shown(row["principal_arn"]),
            shown(row["source_ip_address"]), f"{row['event_count'] or 0:,}",
            _when(row["last_seen_at"]),
        )  # fmt: skip
    out.print(table)
    more = " (--limit to show more)" if len(rows) == limit else ""
    out.print(f"{len(rows):,} alert(s){more} · `ingest alerts show ALERT_ID` for one")


_SHOWN_FIELDS = (
    "alert_id", "detection_id", "title", "severity", "severity_reason", "status",
    "status_reason", "assignee", "triaged_at", "triaged_by", "suppressed", "summary",
    "account_id", "aws_region", "principal_arn", "principal_owner", "source_ip_address",
    "first_seen_at", "last_seen_at", "event_count", "event_names", "resources", "user_agents",
    "source_countries", "mitre_tactics", "mitre_techniques", "runbook",
)  # fmt: skip


@alerts_app.command("show")
def alerts_show(alert_id: AlertIdArgument, as_json: AlertsJsonOption = False) -> None:
    """Show one alert: its fields, its events count, and its triage history."""
    from ingest import triage

    found = triage.Triage(_lake())
    alert = found.get(alert_id)
    history = found.history(alert["alert_id"])
    if as_json:
        _print_json({**alert, "history": history})
        return
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name in _SHOWN_FIELDS:
        value = alert.get(name)
        if value is None or value == []:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, datetime):
            value = f"{value:%Y-%m-%d %H:%M:%S}Z"
        table.add_row(name, shown(value))
    out.print(table)
    count = len(alert.get("event_ids") or [])
    out.print(
        f"[bold]Events[/] {alert['event_count'] or 0:,} ({count:,} event id(s); "
        f'`ingest query "select * from cloudtrail_events where event_id in (select '
        f"unnest(event_ids) from alerts where alert_id = '{shown(alert['alert_id'])}')\"`)"
    )
    if not history:
        out.print("[bold]History[/] none: the alert is open and nobody has triaged it")
        return
    table = Table(title="History", title_justify="left")
    for column in ("at", "action", "status", "assignee", "actor", "note"):
        table.add_column(column, overflow="fold")
    for row in history:
        table.add_row(
            f"{row['at']:%Y-%m-%d %H:%M:%S}Z", shown(row["action"]),
            f"{shown(row['from_status'])} → {shown(row['to_status'])}", shown(row["assignee"]),
            shown(row["actor"]), shown(row["note"]),
        )  # fmt: skip
    out.print(table)


def _act(action: str, alert_id: str, note: str | None, assignee: str | None, actor: str | None):
    from ingest import triage

    alert, row = triage.act(_lake(), alert_id, action, note=note, assignee=assignee, actor=actor)
    if alert["status_reason"]:
        out.print(
            f"Alert {shown(row.alert_id)} had been closed, then got "
            f"{shown(alert['status_reason'])}: recorded as reopened"
        )
    owner = f" · assignee {shown(row.assignee)}" if row.assignee else ""
    out.print(
        f"Alert {shown(row.alert_id)}: {shown(row.from_status)} → "
        f"[bold]{shown(row.to_status)}[/] by {shown(row.actor)}{owner}"
    )


@alerts_app.command("ack")
def alerts_ack(
    alert_id: AlertIdArgument,
    note: NoteOption = None,
    assignee: AssigneeOption = None,
    actor: ActorOption = None,
) -> None:
    """Acknowledge an open alert: someone is on it."""
    _act("ack", alert_id, note, assignee, actor)


@alerts_app.command("close")
def alerts_close(
    alert_id: AlertIdArgument,
    note: NoteOption = None,
    assignee: AssigneeOption = None,
    actor: ActorOption = None,
) -> None:
    """Close an alert (open or acknowledged). New events reopen it."""
    _act("close", alert_id, note, assignee, actor)


@alerts_app.command("reopen")
def alerts_reopen(
    alert_id: AlertIdArgument,
    note: NoteOption = None,
    assignee: AssigneeOption = None,
    actor: ActorOption = None,
) -> None:
    """Reopen an acknowledged or closed alert."""
    _act("reopen", alert_id, note, assignee, actor)


@alerts_app.command("assign")
def alerts_assign(
    alert_id: AlertIdArgument,
    assignee: AssigneeOption = None,
    note: NoteOption = None,
    actor: ActorOption = None,
) -> None:
    """Give an alert to someone (`--assignee NAME`) without changing its status."""
    _act("assign", alert_id, note, assignee, actor)


@alerts_app.command("suppress")
def alerts_suppress(
    alert_id: AlertIdArgument,
    days: Annotated[
        int,
        typer.Option(
            min=1,
            max=365,
            help="Until when: the suppression expires (and fails "
            "`dbt build` until renewed) this many days from now.",
        ),
    ],
    reason: Annotated[
        str, typer.Option(help="Why (a ticket, an owner): required, kept in the seed.")
    ],
    source_cidr: Annotated[
        str | None,
        typer.Option(
            help="Suppress from this network (default: the alert's source address alone).",
            show_default=False,
        ),
    ] = None,
    any_source: Annotated[
        bool, typer.Option("--any-source", help="Suppress from any address.")
    ] = False,
    actor: ActorOption = None,
    project: Annotated[
        Path,
        typer.Option(help="The trailhouse project (for seeds/).", file_okay=False),
    ] = Path("."),
) -> None:
    """Stop what raised this alert from alerting: a row of `seeds/detection_suppressions.csv`
    (this detection, this principal's exact ARN, the alert's source address, this account,
    the reason, an expiry), and the alert closed. Run `dbt build` for it to apply.

    Example: `ingest alerts suppress 3505c2826da5 --days 30 --reason "CHG-1042 key rotation"`
    """
    from ingest import triage

    if source_cidr and any_source:
        _usage_error("--source-cidr and --any-source exclude each other")
    alert, row_, row = triage.suppress(
        _lake(), project, alert_id, days, reason,
        source_cidr=source_cidr, any_source=any_source, actor=actor,
    )  # fmt: skip
    out.print(
        f"Suppressed [bold]{shown(row_.detection_id)}[/] for "
        f"{shown(row_.principal_pattern or 'any principal')} from "
        f"{shown(row_.source_cidr or 'any address')} in {shown(row_.account_id or 'any account')}"
        f" until {shown(row_.expires_at)} ({triage.SUPPRESSIONS_SEED}); alert "
        f"{shown(alert['alert_id'])} {shown(row.from_status)} → closed."
    )
    out.print("Run [bold]dbt build[/] for the suppression to apply.")


# -- export ----------------------------------------------------------------------------------

export_app = typer.Typer(
    help="Send the lake's OCSF records to other systems.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(export_app, name="export")


@export_app.command("security-lake")
def export_security_lake(
    bucket: Annotated[str, typer.Option(help="The Security Lake S3 bucket.", show_default=False)],
    source: Annotated[
        str,
        typer.Option(
            help="Custom source name: findings go under ext/SOURCE/, API activity "
            "under ext/SOURCE-api/."
        ),
    ] = "trailhouse",
    source_version: Annotated[
        str | None,
        typer.Option(
            help="Insert ext/SOURCE/VERSION/ (when Security Lake gave the source "
            "a versioned location)."
        ),
    ] = None,
    since: FromOption = None,
    until: ToOption = None,
    account_id: Annotated[
        str | None,
        typer.Option(help="Account partition for rows with none (web alerts).", show_default=False),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(help="Region partition for rows with none (web alerts).", show_default=False),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile.")] = None,
) -> None:
    """Write the OCSF Detection Findings (class 2004) and API Activity (6003) to Amazon
    Security Lake's custom-source layout: `ext/<source>/region=<r>/accountId=<a>/
    eventDay=<YYYYMMDD>/`, zstd Parquet sorted by time, one class per source. Rows whose
    region, account or time cannot be a partition are counted and reported (exit code 1);
    the rest are written. A rerun replaces the objects it wrote."""
    from ingest import aws
    from ingest import security_lake as security_lake_export

    span = timerange.parse(since, until)
    lake = _lake()
    con = connect(lake)
    try:
        with progress_bar("Exporting", None, "day(s)") as (bar, task):

            def on_day(view: str, day: date) -> None:
                bar.update(task, advance=1, detail=f"{view} {day}")

            summary = security_lake_export.export(
                con, lake, dbt_database(), aws.client("s3", profile), bucket, source, span,
                source_version, account_id, region, on_day=on_day,
            )  # fmt: skip
    except duckdb.Error as exc:
        err.print(f"[red]export failed:[/] {shown(str(exc).splitlines()[0])}")
        raise typer.Exit(1) from None
    finally:
        con.close()
    security_lake_export.show(summary)
    if summary.rejected:
        raise typer.Exit(1)


# -- status ----------------------------------------------------------------------------------


@alerts_app.command("send")
def alerts_send(
    destination: DestinationOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only alerts seen since: a day (2026-01-31) or a time (2026-01-31T14:00Z).",
            show_default=False,
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option("--date", help="Only alerts active on this UTC day.", show_default=False),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send and record nothing.")
    ] = False,
    retry_undelivered: Annotated[
        bool,
        typer.Option(
            "--retry-undelivered",
            help="First put the alerts a destination refused back in its outbox.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Deliver the lake's alerts to the `destinations:` of the config (after each one's
    severity and detection filters), through the same outboxes as `ingest watch`. An alert
    version a destination already has is not sent again; what a destination could not take
    stays in its outbox (or, refused, in undelivered) and the exit code is 1.

    Example: `ingest alerts send --destination soc-slack --since 2026-01-09 --dry-run`
    """
    from ingest import routing, timerange

    if since and day:
        _usage_error("give --since or --date, not both")
    if day and len(day.strip()) != 10:
        _usage_error(f"--date takes a day (2026-01-31), not {day!r}")
    span = timerange.parse(day or since, day)
    targets = _destinations(config, destination)
    if not targets:
        _usage_error("no destinations: add `destinations:` (or watch.webhook) to the config")
    lake = _lake()
    alerts = [
        a for a in routing.current_alerts(connect(lake), lake)
        if (span.start is None or a["last_seen_at"] >= span.start)
        and (span.end is None or a["first_seen_at"] < span.end)
    ]  # fmt: skip
    routes = [routing.Route.of(lake, target) for target in targets]
    if retry_undelivered and not dry_run:
        for item in routes:
            item.outbox.retry_undelivered()
    results = routing.send(lake, routes, alerts, dry_run=dry_run)
    _print_sent(results, len(alerts), dry_run)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


def _print_sent(results, considered: int, dry_run: bool) -> None:
    table = Table(
        title=f"{'Would send' if dry_run else 'Sent'}: {considered:,} alert(s) considered",
        title_justify="left",
    )
    columns = ["destination", "type", "endpoint", "matched", "already sent", "not news",
               "would queue" if dry_run else "queued"]  # fmt: skip
    if not dry_run:
        columns += ["delivered", "refused", "in outbox", "undelivered"]
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    for result in results:
        routed, target = result.routed, result.routed.destination
        row = [shown(target.name), target.type, shown(target.shown), f"{routed.matched:,}",
               f"{routed.already:,}", f"{routed.skipped:,}", f"{len(routed.queued):,}"]  # fmt: skip
        if not dry_run:
            row += [
                f"[green]{result.delivered:,}[/]" if result.delivered else "0",
                f"[red]{result.refused:,}[/]" if result.refused else "0",
                f"[yellow]{result.waiting:,}[/]" if result.waiting else "0",
                f"[red]{result.undelivered:,}[/]" if result.undelivered else "0",
            ]
        table.add_row(*row)
    out.print(table)
    for result in results:
        name = shown(result.routed.destination.name)
        if dry_run:
            for alert in result.routed.queued[:10]:
                out.print(
                    f"  {name} ← {shown(alert['alert_id'])} "
                    f"{_styled(alert.get('severity'), _SEVERITY_STYLE)} {shown(alert.get('title'))}"
                )
            if len(result.routed.queued) > 10:
                out.print(f"  {name} ← … and {len(result.routed.queued) - 10:,} more")
        for error in result.errors:
            err.print(f"[red]error:[/] {shown(error)}", soft_wrap=True)
        if result.waiting:
            err.print(f"{name}: {result.waiting:,} alert(s) wait in its outbox: the next "
                      "`ingest alerts send` or `ingest watch` retries them")  # fmt: skip
        if result.undelivered:
            err.print(f"{name}: {result.undelivered:,} undelivered (refused): "
                      "`ingest alerts send --retry-undelivered` sends them again")  # fmt: skip


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show what was landed, skipped and quarantined, the lake datasets dbt built, each
    collection's last run, alert delivery, alerts per triage status, and the alerts not
    closed."""
    status_view.show(_lake(), as_json)


def run() -> None:
    """Console entry point: one-line errors, not tracebacks (TRAILHOUSE_DEBUG=1 shows them)."""
    try:
        app()
    except UsageError as exc:
        err.print(f"[red]error:[/] {shown(exc)}")
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("TRAILHOUSE_DEBUG"):
            raise
        err.print(f"[red]error:[/] {type(exc).__name__}: {shown(exc)}")
        sys.exit(1)
