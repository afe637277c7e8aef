"""`--from`/`--to`: a day means the whole UTC day, a time is exact (`--to` excluded)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from ingest.lake import UsageError
from ingest.timerange import TimeRange, parse


def test_days_cover_whole_utc_days() -> None:
    span = parse("2026-01-30", "2026-01-31")
    assert span == TimeRange(datetime(2026, 1, 30, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert (span.first_day, span.last_day, span.whole_days) == (
        date(2026, 1, 30), date(2026, 1, 31), True
    )  # fmt: skip


def test_times_are_exact_and_offsets_become_utc() -> None:
    span = parse("2026-01-31T23:30Z", "2026-02-01T01:30+01:00")
    assert span.start == datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert span.end == datetime(2026, 2, 1, 0, 30, tzinfo=UTC)
    assert (span.first_day, span.last_day, span.whole_days) == (
        date(2026, 1, 31), date(2026, 2, 1), False
    )  # fmt: skip
    assert parse("2026-01-31T14:00", None).start == datetime(2026, 1, 31, 14, tzinfo=UTC)
    assert parse(None, "2026-02-01T00:00Z").last_day == date(2026, 1, 31)  # `--to` excluded


def test_the_condition_quotes_its_values() -> None:
    assert parse("2026-01-31T14:00Z", None).condition() == (
        "event_time >= '2026-01-31T14:00:00+00:00'::timestamptz"
    )
    assert TimeRange().condition() == "true"


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "--from takes a day (2026-01-31) or a time"),
        (None, "2026-13-01", "--to takes a day"),
        ("2026-01-31T15:00Z", "2026-01-31T14:00Z", "--from must be before --to"),
        ("2026-01-31' or true or '", None, "--from takes a day"),
    ],
)
def test_what_is_not_a_moment_is_a_usage_error(since, until, message) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(since, until)
