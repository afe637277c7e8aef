"""Compaction of landing files: fewer files, the same rows, nothing lost, still idempotent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import compaction

from conftest import LakeReader, cloudtrail_record, write_delivery_file


def landing_files(lake: Path) -> list[Path]:
    return sorted((lake / "landing" / "cloudtrail").glob("*/*.parquet"))


def landing_rows(lake: Path) -> list[tuple]:
    return LakeReader(lake).rows(
        "select event_id, raw, source_object, landed_at from landing_cloudtrail order by all"
    )


def load_in_separate_runs(tmp_path: Path, ingest, runs: int, days=("01", "02")) -> None:
    for run in range(runs):
        records = [
            cloudtrail_record(f"r{run}-{day}", when=f"2026-03-{day}T10:00:00Z") for day in days
        ]
        path = write_delivery_file(tmp_path / f"run{run}.json.gz", records)
        ingest("load", "cloudtrail", path)


def test_compact_merges_each_partition_into_one_file_with_the_same_rows(
    tmp_path: Path, lake: Path, ingest
) -> None:
    load_in_separate_runs(tmp_path, ingest, runs=5)
    assert len(landing_files(lake)) == 10
    before = landing_rows(lake)

    result = ingest("compact")

    assert "Compacted 2 landing partition(s): 10 files into 2" in result.output
    assert [p.parent.name for p in landing_files(lake)] == [
        "event_date=2026-03-01",
        "event_date=2026-03-02",
    ]
    assert landing_rows(lake) == before
    # The input records were merged too, and still make reruns no-ops.
    assert len(list((lake / "_state/cloudtrail/inputs").glob("*.parquet"))) == 1
    again = ingest("load", "cloudtrail", *[tmp_path / f"run{n}.json.gz" for n in range(5)])
    assert "Nothing new to land" in again.output


def test_landing_compacts_a_partition_once_it_piles_up(
    tmp_path: Path, lake: Path, ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "AUTO_MIN_FILES", 3)
    load_in_separate_runs(tmp_path, ingest, runs=2, days=("05",))
    assert len(landing_files(lake)) == 2
    load_in_separate_runs(tmp_path / "more", ingest, runs=1, days=("05",))
    assert len(landing_files(lake)) == 1
    assert len(landing_rows(lake)) == 3


def test_a_compaction_interrupted_after_publishing_loses_nothing_and_duplicates_vanish(
    tmp_path: Path, lake: Path, ingest
) -> None:
    load_in_separate_runs(tmp_path, ingest, runs=3, days=("07",))
    before = landing_rows(lake)
    # As if a compaction had published its output and died before deleting its inputs.
    (first,) = landing_files(lake)[:1]
    shutil.copyfile(first, first.with_name("compact-0000000000000000-0.parquet"))

    ingest("compact")

    assert len(landing_files(lake)) == 1
    assert landing_rows(lake) == before


def test_replacing_the_demo_after_compaction_removes_every_old_record(lake: Path, ingest) -> None:
    ingest("demo", "--events", "1200", "--days", "2", "--end", "2026-01-10")
    ingest("compact")
    ingest("demo", "--events", "1300", "--days", "2", "--end", "2026-01-10", "--replace")
    ((count, distinct),) = LakeReader(lake).rows(
        "select count(*), count(distinct event_id) from landing_cloudtrail"
    )
    assert count == distinct == 1300
