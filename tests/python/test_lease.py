"""One writer at a time per lake, with real concurrent processes: a local lake (flock) and an
S3 lake on the loopback moto server (a lease object created with If-None-Match).

A second writer waits for the holder and then goes on, or refuses naming the holder; a dead
holder's lease is taken over (the kernel drops a flock, an S3 lease expires); two loads of the
same files started together land every record once; two builds started together both succeed
and agree with the landing zone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (
    BUILD,
    INGEST,
    PROJECT_ROOT,
    LakeReader,
    Workspace,
    cloudtrail_record,
    write_delivery_file,
)

HOLDER = """
import sys
from ingest.lake import Lake
from ingest.lease import Lease
lease = Lease(Lake.at(sys.argv[1]), "test holder").acquire(wait=0)
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin (or kills the process)
lease.release()
"""

FILES = 40
PER_FILE = 25


class Holder:
    """A real process holding the lake's lease until `release()` or `kill()`."""

    def __init__(self, env: dict[str, str], lake: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, lake], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        self.process.stdin.close()
        assert self.process.wait(30) == 0

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture(params=["local", "s3"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Workspace, str]:
    """A workspace and its lake: a directory, or a prefix on the moto server."""
    ws = Workspace.create(tmp_path / "ws")
    if request.param == "local":
        return ws, str(ws.lake)
    aws = request.getfixturevalue("aws")
    aws.s3.create_bucket(Bucket="lake-bucket")
    ws.env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    ws.env["TRAILHOUSE_LAKE"] = "s3://lake-bucket/lake"
    return ws, "s3://lake-bucket/lake"


def delivery_files(root: Path, files: int = FILES) -> Path:
    for f in range(files):
        records = [
            cloudtrail_record(f"lease-{f}-{r}", when=f"2026-11-2{f % 3}T10:{r:02d}:00Z")
            for r in range(PER_FILE)
        ]
        write_delivery_file(root / f"111122223333_CloudTrail_us-east-1_{f:04d}.json.gz", records)
    return root


def load(ws: Workspace, source: Path, wait: float) -> subprocess.Popen:
    return subprocess.Popen(
        [INGEST, "load", "cloudtrail", str(source)],
        env={**ws.env, "TRAILHOUSE_LEASE_WAIT": str(wait)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def landed_ids(ws: Workspace, lake: str) -> list[str]:
    if lake.startswith("s3://"):
        import duckdb

        from ingest.duck import enable_s3

        con = duckdb.connect()
        enable_s3(con)
        rows = con.execute(
            "select event_id from read_parquet(?)", [f"{lake}/landing/cloudtrail/*/*.parquet"]
        ).fetchall()
        return [r[0] for r in rows]
    return [r[0] for r in LakeReader(Path(lake)).rows("select event_id from landing_cloudtrail")]


def test_a_writer_waits_for_the_holder_or_refuses_naming_it(
    target: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, lake = target
    source = delivery_files(tmp_path / "in", files=2)
    holder = Holder(ws.env, lake)
    try:
        refused = load(ws, source, wait=1)
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 2, err
        assert "is being written by test holder (pid" in " ".join(err.split())
        assert "TRAILHOUSE_LEASE_WAIT" in err

        waiting = load(ws, source, wait=120)
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(5)  # still waiting for the holder
    finally:
        holder.release()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting for the lake: it is being written by test holder" in " ".join(err.split())
    assert len(landed_ids(ws, lake)) == 2 * PER_FILE


def test_a_dead_holder_does_not_block_the_lake(
    target: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, lake = target
    source = delivery_files(tmp_path / "in", files=1)
    holder = Holder(ws.env, lake)
    holder.kill()  # kill -9: no release
    if lake.startswith("s3://"):
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        key = "lake/_state/lease.json"
        left = json.loads(s3.get_object(Bucket="lake-bucket", Key=key)["Body"].read())
        assert left["purpose"] == "test holder"  # still there: it expires, nobody deletes it
        left["ttl_seconds"] = 1  # rather than wait out the 2-minute heartbeat window
        s3.put_object(Bucket="lake-bucket", Key=key, Body=json.dumps(left).encode())
        time.sleep(2.5)  # by S3's clock: Last-Modified against the response's Date
    loaded = load(ws, source, wait=10)
    _, err = loaded.communicate(timeout=120)
    assert loaded.returncode == 0, err
    assert len(landed_ids(ws, lake)) == PER_FILE


def test_two_loads_started_together_land_every_record_once(
    target: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, lake = target
    source = delivery_files(tmp_path / "in")
    first, second = load(ws, source, wait=300), load(ws, source, wait=300)
    for process in (first, second):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    ids = landed_ids(ws, lake)
    assert len(ids) == FILES * PER_FILE and len(set(ids)) == len(ids)


@pytest.mark.e2e
def test_two_builds_started_together_both_succeed_and_agree_with_the_landing(
    tmp_path: Path,
) -> None:
    """Two machines' builds of one lake (each with its own DuckDB file): the second waits for
    the first, then has nothing to redo."""
    ws = Workspace.create(tmp_path / "ws")
    source = delivery_files(tmp_path / "in", files=4)
    landed = load(ws, source, wait=0)
    assert landed.wait(120) == 0
    builds = []
    for n in (1, 2):
        env = {**ws.env, "TRAILHOUSE_DB": str(tmp_path / f"machine{n}.duckdb"),
               "DBT_TARGET_PATH": str(tmp_path / f"target{n}")}  # fmt: skip
        builds.append(subprocess.Popen(
            [str(Path(INGEST).with_name("dbt")), "build", *BUILD[1:], "--quiet"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
    outputs = [b.communicate(timeout=900) for b in builds]
    for build, (out, err) in zip(builds, outputs, strict=True):
        assert build.returncode == 0, out + err
    assert any("waiting for the lake: it is being written by dbt build" in err
               for _, err in outputs)  # fmt: skip
    reader = LakeReader(ws.lake)
    (events,) = reader.rows("select count(*) from cloudtrail_events")[0]
    (distinct,) = reader.rows("select count(distinct event_id) from cloudtrail_events")[0]
    assert events == distinct == 4 * PER_FILE


def test_an_s3_holder_that_loses_its_lease_stops_writing(aws, tmp_path: Path) -> None:
    """Taken over (its object replaced by another writer's), or its heartbeat unable to reach
    S3 for a TTL: the holder's next write to the lake raises instead of interleaving."""
    from botocore.exceptions import EndpointConnectionError

    from ingest.lake import Lake
    from ingest.lease import Lease, LeaseBusy

    aws.s3.create_bucket(Bucket="lake-bucket")
    lake = Lake.at("s3://lake-bucket/lake")
    lease = Lease(lake, "first writer", ttl=0.8).acquire(wait=0)
    lake.put_bytes(b"ok", "_state/probe")  # writes while the lease holds
    other = {"token": "someone-else", "purpose": "second writer", "ttl_seconds": 120}
    aws.s3.put_object(Bucket="lake-bucket", Key="lake/_state/lease.json",
                      Body=json.dumps(other).encode())  # fmt: skip
    deadline = time.monotonic() + 10
    while not lease.lost and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(LeaseBusy, match="was lost while first writer ran"):
        lake.put_bytes(b"late", "_state/probe")
    with pytest.raises(LeaseBusy):
        lease.release()
    assert (
        json.loads(
            aws.s3.get_object(Bucket="lake-bucket", Key="lake/_state/lease.json")["Body"].read()
        )["token"]
        == "someone-else"
    )  # fmt: skip  (not deleted)
    aws.s3.delete_object(Bucket="lake-bucket", Key="lake/_state/lease.json")

    lease = Lease(lake, "first writer", ttl=0.8).acquire(wait=0)

    def unreachable(request, **_):
        raise EndpointConnectionError(endpoint_url=request.url)

    client = lease.backend.client  # the heartbeat's own client
    client.meta.events.register("before-send.s3.PutObject", unreachable)
    try:
        deadline = time.monotonic() + 10
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lost
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", unreachable)
    with pytest.raises(LeaseBusy):
        lake.put_bytes(b"late", "_state/probe")
    with pytest.raises(LeaseBusy):
        lease.release()
    successor = Lease(lake, "next writer").acquire(wait=5)  # the stale lease is taken over
    assert successor.held
    successor.release()


def test_a_child_working_under_a_lease_dies_with_its_holder(tmp_path: Path) -> None:
    """The dbt build `ingest watch` runs works under the watcher's lease: killed, the watcher
    takes the lease with it, and the build must not go on writing beside the next writer."""
    parent = """
import subprocess, sys
from ingest.lake import Lake
from ingest.lease import Lease, tied_to_this_process
lease = Lease(Lake.at(sys.argv[1]), "ingest watch").acquire(wait=0)
child = subprocess.Popen(tied_to_this_process(["sleep", "60"]), env=lease.child_env())
print(child.pid, flush=True)
sys.stdin.read()
"""
    ws = Workspace.create(tmp_path / "ws")
    process = subprocess.Popen(
        [sys.executable, "-c", parent, str(ws.lake)], env=ws.env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    child = int(process.stdout.readline())
    deadline = time.monotonic() + 10
    while not Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"sleep"):
        assert time.monotonic() < deadline
        time.sleep(0.05)  # setpriv has set the parent-death signal and become the build
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    deadline = time.monotonic() + 10
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(child), "the child outlived its lease holder"


def running(pid: int) -> bool:
    """A process that exists and is not a zombie waiting for its (dead) parent's reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_hung_heartbeat_stops_the_holder_before_the_lease_can_expire(aws) -> None:
    """A renewal that hangs never returns to say the lease is lost: the holder stops writing
    on its own once the last renewal it sent is too old, before another writer may take it."""
    from ingest.lake import Lake
    from ingest.lease import Lease, LeaseBusy

    aws.s3.create_bucket(Bucket="lake-bucket")
    lake = Lake.at("s3://lake-bucket/lake")
    lease = Lease(lake, "first writer", ttl=2).acquire(wait=0)
    client = lease.backend.client

    def hang(**_) -> None:
        time.sleep(4)

    client.meta.events.register("before-send.s3.PutObject", hang)
    try:
        time.sleep(2.0)  # past 3/4 of the TTL since the last renewal sent before the hang
        with pytest.raises(LeaseBusy, match="was lost"):
            lake.put_bytes(b"late", "_state/probe")
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", hang)
    with pytest.raises(LeaseBusy):
        lease.release()


def test_the_watchers_build_is_stopped_when_its_lease_is_lost(aws, tmp_path: Path) -> None:
    """The dbt build `ingest watch` runs works under the watcher's lease: once the lease may be
    someone else's, the build (its whole process group) is stopped, not left writing."""
    from ingest.duck import connect
    from ingest.lake import Lake
    from ingest.lease import Lease, LeaseBusy
    from ingest.watch import Watcher

    aws.s3.create_bucket(Bucket="lake-bucket")
    lake = Lake.at("s3://lake-bucket/lake")
    lake.ensure()
    slow = tmp_path / "dbt"
    slow.write_text("#!/bin/sh\nsleep 61 &\nwait\n")  # a build with a child of its own
    slow.chmod(0o755)
    watcher = Watcher(lake, connect(lake), lambda: None, tmp_path, [], dbt=str(slow))
    lease = Lease(lake, "ingest watch", ttl=2).acquire(wait=0)

    def hang(**_) -> None:
        time.sleep(4)

    lease.backend.client.meta.events.register("before-send.s3.PutObject", hang)
    try:
        started = time.monotonic()
        ok, log = watcher.build(lease)
        assert not ok and "the lake's lease was lost" in log
        assert time.monotonic() - started < 10
    finally:
        lease.backend.client.meta.events.unregister("before-send.s3.PutObject", hang)
    assert not subprocess.run(["pgrep", "-f", "sleep 61"], capture_output=True).stdout
    with pytest.raises(LeaseBusy):
        lease.release()
