"""`ingest load cloudtrail`: every shape lands, bad inputs are quarantined, reruns are no-ops."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest

from ingest.lake import Lake

from conftest import LakeReader, cloudtrail_record, write_delivery_file


def landed(lake: Path) -> list[tuple]:
    if not any((lake / "landing" / "cloudtrail").glob("event_date=*/*.parquet")):
        return []
    return LakeReader(lake).rows(
        "select event_id, cast(event_date as varchar), raw, source_object "
        "from landing_cloudtrail order by event_id"
    )


def snapshot(lake: Path) -> dict[str, bytes]:
    root = lake / "landing"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_mixed_directory_lands_good_records_and_quarantines_exactly_the_bad_files(
    tmp_path: Path, lake: Path, ingest
) -> None:
    inputs = tmp_path / "inputs"
    good = [cloudtrail_record(f"good-{i}") for i in range(5)]
    write_delivery_file(inputs / "a_CloudTrail_us-east-1_1.json.gz", good[:3])
    (inputs / "b.jsonl").write_text("\n".join(json.dumps(r) for r in good[3:]) + "\n")
    payload = gzip.compress(json.dumps({"Records": [cloudtrail_record("lost")] * 50}).encode())
    (inputs / "truncated.json.gz").write_bytes(payload[: len(payload) // 2])
    an_hour_ago = os.stat(inputs / "truncated.json.gz").st_mtime - 3600
    os.utime(inputs / "truncated.json.gz", (an_hour_ago, an_hour_ago))  # done growing: corrupt
    (inputs / "invalid.json").write_text('{"Records": [{"eventID": "x",}}]}')
    (inputs / "foreign.json").write_text(json.dumps({"name": "not a trail", "items": [1, 2]}))

    result = ingest("load", "cloudtrail", inputs)

    assert sorted(row[0] for row in landed(lake)) == sorted(r["eventID"] for r in good)
    quarantine = lake / "_quarantine" / "cloudtrail"
    reasons = {
        json.loads(p.read_text())["source_object"].rsplit("/", 1)[-1]: json.loads(p.read_text())[
            "reason"
        ]
        for p in quarantine.glob("*.reason.json")
    }
    assert set(reasons) == {"truncated.json.gz", "invalid.json", "foreign.json"}
    assert reasons["foreign.json"].startswith("not CloudTrail-shaped")
    assert reasons["invalid.json"].startswith("unreadable")
    assert reasons["truncated.json.gz"].startswith("unreadable")
    # The quarantined bytes are kept next to their reason, unchanged.
    kept = [p for p in quarantine.iterdir() if p.name.endswith("__invalid.json")]
    assert kept and kept[0].read_text() == '{"Records": [{"eventID": "x",}}]}'
    assert "Quarantined 3 input(s)" in result.output
    assert "Landed 2 file(s) · 5 records" in result.output


def test_rerun_lands_nothing_and_changes_no_file(tmp_path: Path, lake: Path, ingest) -> None:
    inputs = tmp_path / "inputs"
    write_delivery_file(
        inputs / "one.json.gz", [cloudtrail_record("e-1"), cloudtrail_record("e-2")]
    )
    (inputs / "bad.json").write_text("{]")
    ingest("load", "cloudtrail", inputs)
    before = snapshot(lake)
    quarantined_before = sorted(p.name for p in (lake / "_quarantine").rglob("*"))

    result = ingest("load", "cloudtrail", inputs)

    assert snapshot(lake) == before
    assert sorted(p.name for p in (lake / "_quarantine").rglob("*")) == quarantined_before
    assert "Nothing new to land: all 2 input(s) were landed before" in result.output
    assert len(landed(lake)) == 2


def test_changed_file_is_landed_again(tmp_path: Path, lake: Path, ingest) -> None:
    path = write_delivery_file(tmp_path / "in" / "f.json.gz", [cloudtrail_record("e-1")])
    ingest("load", "cloudtrail", path)
    write_delivery_file(path, [cloudtrail_record("e-1"), cloudtrail_record("e-2")])

    ingest("load", "cloudtrail", path)

    # Both versions are kept in landing; cloudtrail_events de-duplicates on event_id.
    assert [row[0] for row in landed(lake)] == ["e-1", "e-1", "e-2"]


def test_every_supported_shape_lands_records_verbatim(tmp_path: Path, lake: Path, ingest) -> None:
    inputs = tmp_path / "inputs"
    records = [
        cloudtrail_record(f"e-{i}", requestParameters={"nested": {"list": [i, "x"]}})
        for i in range(8)
    ]
    write_delivery_file(inputs / "delivery.json.gz", records[0:2])
    (inputs / "pretty.json").write_text(json.dumps({"Records": records[2:3]}, indent=4))
    (inputs / "lines.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[3:5]))
    lookup = {
        "Events": [
            {"EventId": r["eventID"], "EventName": r["eventName"], "CloudTrailEvent": json.dumps(r)}
            for r in records[5:7]
        ],
        "NextToken": "abc",
    }
    (inputs / "lookup-events.json").write_text(json.dumps(lookup))
    (inputs / "array.json").write_text(json.dumps(records[7:8]))

    ingest("load", "cloudtrail", inputs)

    rows = landed(lake)
    assert [json.loads(raw) for _, _, raw, _ in rows] == records
    assert {Path(source).name for *_, source in rows} == {
        "delivery.json.gz",
        "pretty.json",
        "lines.jsonl",
        "lookup-events.json",
        "array.json",
    }
    assert {date for _, date, _, _ in rows} == {"2024-08-02"}


def test_partition_follows_utc_event_date(tmp_path: Path, lake: Path, ingest) -> None:
    path = write_delivery_file(
        tmp_path / "f.json.gz",
        [
            cloudtrail_record("late", when="2024-08-02T23:59:59Z"),
            cloudtrail_record("early", when="2024-08-03T00:00:00Z"),
        ],
    )
    ingest("load", "cloudtrail", path)
    assert {(row[0], row[1]) for row in landed(lake)} == {
        ("late", "2024-08-02"),
        ("early", "2024-08-03"),
    }


def test_digest_files_are_skipped_not_quarantined(tmp_path: Path, lake: Path, ingest) -> None:
    digest_dir = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1"
    digest = digest_dir / "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_x.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(
        gzip.compress(b'{"digestStartTime": "2024-08-02T00:00:00Z", "logFiles": []}')
    )
    write_delivery_file(tmp_path / "AWSLogs" / "log.json.gz", [cloudtrail_record("e-1")])

    result = ingest("load", "cloudtrail", tmp_path / "AWSLogs")

    assert "Skipped 1 file(s): CloudTrail digest file" in result.output
    assert not (lake / "_quarantine" / "cloudtrail").exists() or not any(
        (lake / "_quarantine" / "cloudtrail").iterdir()
    )
    assert [row[0] for row in landed(lake)] == ["e-1"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (json.dumps({"Records": [{"eventID": "x"}]}).encode(), "lack eventID, eventSource"),
        (
            json.dumps(
                {
                    "Records": [
                        {
                            "eventID": "x",
                            "eventSource": "s",
                            "eventName": "n",
                            "eventTime": "yesterday",
                        }
                    ]
                }
            ).encode(),
            "valid eventTime",
        ),
        (json.dumps([1, 2, 3]).encode(), "not CloudTrail-shaped"),
    ],
)
def test_inputs_that_are_not_cloudtrail_are_quarantined(
    tmp_path: Path, lake: Path, ingest, content: bytes, reason: str
) -> None:
    bad = tmp_path / "in" / "bad.json"
    bad.parent.mkdir()
    bad.write_bytes(content)
    write_delivery_file(tmp_path / "in" / "good.json.gz", [cloudtrail_record("e-1")])

    result = ingest("load", "cloudtrail", tmp_path / "in")

    assert reason in result.output
    assert [row[0] for row in landed(lake)] == ["e-1"]


def test_hostile_file_names_cannot_escape_the_quarantine(
    tmp_path: Path, lake: Path, ingest
) -> None:
    odd = tmp_path / "in" / "..%2F..%2Fetc passwd;$(rm -rf) \u202e.json"
    odd.parent.mkdir()
    odd.write_text("{not json")

    ingest("load", "cloudtrail", odd)

    quarantine = (lake / "_quarantine" / "cloudtrail").resolve()
    names = [p for p in quarantine.iterdir()]
    assert len(names) == 2  # the copy and its reason
    for path in names:
        assert path.resolve().parent == quarantine
        assert "/" not in path.name and not path.name.startswith(".")


def test_missing_path_is_a_usage_error(tmp_path: Path, ingest) -> None:
    result = ingest("load", "cloudtrail", tmp_path / "nope", expect=2)
    assert "does not exist" in result.output


def test_stratus_detonations_land_completely(lake: Path, ingest, stratus_dir: Path) -> None:
    expected = {
        json.loads(line)["eventID"]
        for path in stratus_dir.glob("*.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    }
    ingest("load", "cloudtrail", stratus_dir)
    assert {row[0] for row in landed(lake)} == expected


def test_a_batch_of_only_empty_files_is_quarantined_not_a_crash(
    tmp_path: Path, lake: Path, ingest
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.json").write_bytes(b"")

    result = ingest("load", "cloudtrail", tmp_path / "in")

    assert "empty file" in result.output
    assert landed(lake) == []


def test_records_with_an_empty_event_id_are_not_cloudtrail(
    tmp_path: Path, lake: Path, ingest
) -> None:
    path = write_delivery_file(tmp_path / "blank.json.gz", [cloudtrail_record("")])
    result = ingest("load", "cloudtrail", path)
    assert "lack eventID" in result.output
    assert landed(lake) == []


def test_bad_inputs_with_the_same_long_name_are_both_kept(
    tmp_path: Path, lake: Path, ingest
) -> None:
    name = "x" * 130 + ".json"
    for directory, content in (("a", "{one"), ("b", "{two")):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / name).write_text(content)

    ingest("load", "cloudtrail", tmp_path / "a", tmp_path / "b")

    kept = sorted(p for p in (lake / "_quarantine" / "cloudtrail").iterdir())
    assert len(kept) == 4
    assert {p.read_text() for p in kept if not p.name.endswith(".reason.json")} == {"{one", "{two"}


def test_a_new_lake_is_its_owners_alone(tmp_path: Path, lake: Path, ingest) -> None:
    path = write_delivery_file(tmp_path / "one.json.gz", [cloudtrail_record("e-1")])
    ingest("load", "cloudtrail", path)
    assert stat.S_IMODE(lake.stat().st_mode) == 0o700


def test_a_file_reaches_the_disk_before_its_name_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut after a publish leaves the old file or the new one, never a torn file."""
    steps: list[tuple[str, str]] = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(fd: int) -> None:
        steps.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def recorded_replace(source, target) -> None:
        steps.append(("rename", str(target)))
        replace(source, target)

    lake = Lake.at(str(tmp_path / "lake"))
    lake.ensure()
    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    lake.put_bytes(b"{}", "_state/watch/x.json")
    target = str(tmp_path / "lake" / "_state" / "watch" / "x.json")
    assert [step for step, _ in steps] == ["fsync", "rename", "fsync"]
    assert steps[0][1].startswith(str(lake.scratch)) and steps[1][1] == target
    assert steps[2][1] == str(Path(target).parent)


def rejected_records(lake: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((lake / "_quarantine" / "cloudtrail").glob("*.rejected.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_one_invalid_record_is_quarantined_and_the_rest_of_its_file_lands(
    tmp_path: Path, lake: Path, ingest
) -> None:
    records = [cloudtrail_record(f"r-{i}") for i in range(5000)]
    del records[2499]["eventSource"]  # record 2500
    records[3999]["eventTime"] = "garbage"  # record 4000
    write_delivery_file(tmp_path / "in" / "big.json.gz", records)
    lines = [json.dumps(cloudtrail_record("line-1")), json.dumps({"hello": "world"})]
    (tmp_path / "in" / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    lookup = {"Events": [  # `aws cloudtrail lookup-events` output
        {"EventId": "l-1", "CloudTrailEvent": json.dumps(cloudtrail_record("lookup-1"))},
        {"EventId": "l-2"},  # no CloudTrailEvent: kept as evidence, not skipped
        {"EventId": "l-3", "CloudTrailEvent": "{not json"},
        {"EventId": "l-4", "CloudTrailEvent": json.dumps(cloudtrail_record("lookup-4"))},
    ]}  # fmt: skip
    (tmp_path / "in" / "lookup.json").write_text(json.dumps(lookup))

    result = ingest("load", "cloudtrail", tmp_path / "in")

    ids = {row[0] for row in landed(lake)}
    assert len(ids) == 5001 and "r-2499" not in ids and "r-3999" not in ids and "line-1" in ids
    assert {"lookup-1", "lookup-4"} <= ids
    rejected = rejected_records(lake)
    by_reason = {r["reason"]: r for r in rejected}
    assert by_reason["no eventSource"]["position"] == 2500
    assert by_reason["no eventSource"]["record"]["eventID"] == "r-2499"  # kept whole, as JSON
    assert by_reason["no valid eventTime"]["position"] == 4000
    assert by_reason["no valid eventTime"]["record"]["eventTime"] == "garbage"
    foreign = by_reason["not a CloudTrail record (no Records, Events[].CloudTrailEvent or eventID)"]
    assert foreign["record"] == {"hello": "world"} and foreign["document"] == 2  # line 2
    lookup_rejects = sorted(
        (r["position"], r["record"]) for r in rejected if "EventId" in (r["record"] or {})
    )
    assert lookup_rejects == [
        (2, {"EventId": "l-2"}), (3, {"EventId": "l-3", "CloudTrailEvent": "{not json"})
    ]  # fmt: skip
    reasons = [
        json.loads(p.read_text())["reason"]
        for p in (lake / "_quarantine" / "cloudtrail").glob("*.reason.json")
    ]
    assert "2 of 5000 record(s) are not CloudTrail (record 2500: no eventSource)" in reasons
    output = " ".join(result.output.split())
    assert "5 invalid record(s) or line(s) of landed files were quarantined" in output
    assert "Landed 3 file(s) · 5,001 records" in output

    again = ingest("load", "cloudtrail", tmp_path / "in")
    assert "Nothing new to land" in again.output and len(rejected_records(lake)) == 5


def test_a_file_that_cannot_be_read_now_is_retried_next_run_not_recorded(
    tmp_path: Path, lake: Path, ingest
) -> None:
    inputs = tmp_path / "in"
    write_delivery_file(inputs / "good.json.gz", [cloudtrail_record("good")])
    # being written: a gzip cut short, changed just now
    complete = gzip.compress(json.dumps({"Records": [cloudtrail_record("late")] * 40}).encode())
    (inputs / "writing.json.gz").write_bytes(complete[: len(complete) // 2])
    # gone between the listing and the read (a rotated file, a stale NFS handle)
    (inputs / "gone.json").symlink_to(tmp_path / "elsewhere.json")

    first = ingest("load", "cloudtrail", inputs, expect=1)

    output = " ".join(first.output.split())
    assert "Not read (2); retried on the next run" in output
    assert [row[0] for row in landed(lake)] == ["good"]
    assert not (lake / "_quarantine" / "cloudtrail").exists() or not any(
        (lake / "_quarantine" / "cloudtrail").iterdir()
    )

    (inputs / "writing.json.gz").write_bytes(complete)  # the writer finished
    (tmp_path / "elsewhere.json").write_text(json.dumps(cloudtrail_record("back")))
    ingest("load", "cloudtrail", inputs)
    assert sorted({row[0] for row in landed(lake)}) == ["back", "good", "late"]


def test_a_file_name_is_never_read_as_an_error_message(tmp_path: Path, lake: Path, ingest) -> None:
    """A DuckDB error quotes the path: `no space left` in a file name is not a full disk
    (which would stop the run) and `truncated` is not a truncated stream."""
    inputs = tmp_path / "in"
    write_delivery_file(inputs / "good.json.gz", [cloudtrail_record("good")])
    (inputs / "no space left on device.json.gz").write_bytes(b"this is not gzip")

    result = ingest("load", "cloudtrail", inputs)

    assert [row[0] for row in landed(lake)] == ["good"]
    assert "Quarantined 1 input(s)" in result.output


def test_paths_with_glob_characters_or_non_utf8_bytes_are_plain_paths(
    tmp_path: Path, lake: Path, ingest
) -> None:
    inputs = tmp_path / "in"
    names = {"a[1].json.gz": "bracket", "a1.json.gz": "decoy", "b*.json.gz": "star"}
    for name, event_id in names.items():
        write_delivery_file(inputs / name, [cloudtrail_record(event_id)])
    (inputs / "c?.json").write_text(json.dumps({"Records": [cloudtrail_record("question")]}))
    raw = os.fsencode(inputs) + b"/d\xff.json.gz"  # not UTF-8
    with open(raw, "wb") as handle:
        handle.write(gzip.compress(json.dumps({"Records": [cloudtrail_record("bytes")]}).encode()))

    ingest("load", "cloudtrail", inputs)

    rows = landed(lake)
    assert sorted(row[0] for row in rows) == ["bracket", "bytes", "decoy", "question", "star"]
    sources = {row[0]: row[3].rsplit("/", 1)[1] for row in rows}
    assert sources["bracket"] == "a[1].json.gz" and sources["star"] == "b*.json.gz"
    assert sources["bytes"] == "d\\xff.json.gz"  # shown escaped, never as a broken string
