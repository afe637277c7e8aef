"""`--from` / `--to`: a day or a moment, the same for every command.

A day (`2026-11-25`) means the whole UTC day: `--from` its first instant, `--to` included to its
end. A time (`2026-11-25T14:00Z`, `2026-11-25T16:00+02:00`, or without an offset for UTC) is
exact: `--from` included, `--to` excluded, so `--from 14:00 --to 15:00` is one incident hour.
Commands that work in whole days (pulling day folders, partitions) use the days the range
touches; those that read rows (`query`, `replay`) also keep only the rows inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ingest.duck import sql_string
from ingest.lake import UsageError


@dataclass(frozen=True)
class TimeRange:
    start: datetime | None = None  # included
    end: datetime | None = None  # excluded

    @property
    def first_day(self) -> date | None:
        return self.start.date() if self.start else None

    @property
    def last_day(self) -> date | None:
        return (self.end - timedelta(microseconds=1)).date() if self.end else None

    @property
    def whole_days(self) -> bool:
        return all(m is None or m.timetz() == time(tzinfo=UTC) for m in (self.start, self.end))

    def condition(self, column: str = "event_time") -> str:
        """SQL keeping the rows of `column` inside the range (values quoted, never spliced)."""
        parts = []
        if self.start:
            parts.append(f"{column} >= {sql_string(self.start.isoformat())}::timestamptz")
        if self.end:
            parts.append(f"{column} < {sql_string(self.end.isoformat())}::timestamptz")
        return " and ".join(parts) or "true"


def parse(since: str | None, until: str | None) -> TimeRange:
    """The range of `--from SINCE --to UNTIL`; UsageError naming the option that is wrong."""
    span = TimeRange(_moment(since, "--from", end=False), _moment(until, "--to", end=True))
    if span.start and span.end and span.start >= span.end:
        raise UsageError("--from must be before --to")
    return span


def _moment(value: str | None, option: str, end: bool) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} takes a day (2026-01-31) or a time (2026-01-31T14:00Z), not {value!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
