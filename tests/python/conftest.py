"""The one test harness: workspaces, the real CLIs, a lake reader, a loopback receiver, and the
session lakes every read-only test shares.

- `Workspace`: a lake, a DuckDB file, dbt's target and log directories and the environment
  pointing at them, optionally with its own copy of the dbt project. `copy()` clones one (the
  lake, the DuckDB file with its views re-pointed at the copy) for tests that change a lake.
- `run_dbt(ws, ...)`: dbt in-process through dbt's programmatic runner (no interpreter start;
  partial parsing kept in the workspace's target, a new workspace starting from the last
  parse of the project), or in a subprocess with `isolated=True`
  where isolation is the point (killing a build, Spark's JVM, secrets in the output).
- `run_ingest(ws, ...)` / `invoke(ws, ...)`: the real `ingest` CLI in-process.
- `LakeReader`: the lake read as any engine would, Parquet files only.
- `receiver`: an HTTP receiver on loopback whose arrivals can be awaited.
- `demo_lake`, `stratus_lake`: built once per test session (once across pytest-xdist workers,
  under a file lock) and never written after; a test that changes a lake takes `.copy()`.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gzip
import json
import os
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

# Wide output so assertions on messages are not broken by line wrapping.
os.environ["COLUMNS"] = "200"
# dbt must never phone home (CI has no network beyond the package registries).
os.environ["DO_NOT_TRACK"] = "1"

from ingest.cli import app
from ingest.duck import sql_string

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DBT = str(BIN / "dbt")
INGEST = str(BIN / "ingest")
SHARED_FIXTURES = Path(os.environ.get("TRAILHOUSE_SHARED", PROJECT_ROOT.parent / "shared")) / (
    "fixtures"
)
WEB_SAMPLE = SHARED_FIXTURES / "web" / "apache_combined_sample.log"
STRATUS = SHARED_FIXTURES / "stratus"

# A build that leaves the unit tests out: they do not depend on a lake's data, and
# test_dbt_build runs every one of them once.
BUILD = ("build", "--exclude", "resource_type:unit_test")


# -- workspaces -------------------------------------------------------------------------------


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]
    project: Path = PROJECT_ROOT
    # A shared session lake: readers only. dbt or ingest writing to it would change what
    # other tests (and other xdist workers) read.
    frozen: bool = False

    @classmethod
    def create(cls, root: Path) -> Workspace:
        root.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TRAILHOUSE_LAKE": str(root / "lake"),
            "TRAILHOUSE_DB": str(root / "trailhouse.duckdb"),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
        }
        return cls(root, env)

    @property
    def lake(self) -> Path:
        return Path(self.env["TRAILHOUSE_LAKE"])

    @property
    def db(self) -> Path:
        return Path(self.env["TRAILHOUSE_DB"])

    def with_env(self, **extra: str) -> Workspace:
        """The same directories with more environment (a config file, GeoIP databases)."""
        return Workspace(self.root, {**self.env, **extra}, self.project, self.frozen)

    def copy(self, root: Path) -> Workspace:
        """A writable clone: the lake, the DuckDB file (its views re-pointed at the new lake)
        and the project copy, if the workspace has one."""
        clone = Workspace.create(root)
        clone.env = {**self.env, **{k: clone.env[k] for k in _WORKSPACE_VARIABLES}}
        if self.lake.exists():
            shutil.copytree(self.lake, clone.lake, symlinks=True)
        if self.db.exists():
            shutil.copy2(self.db, clone.db)
            _repoint_views(clone.db, str(self.lake), str(clone.lake))
        if self.project != PROJECT_ROOT:
            clone.project_copy(source=self.project)
        return clone

    def project_copy(self, source: Path = PROJECT_ROOT) -> Path:
        """Give the workspace its own copy of the dbt project, for tests that edit models,
        seeds or import rules."""
        project = self.root / "project"
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(
            source,
            project,
            ignore=shutil.ignore_patterns(
                ".venv", ".git", "target", "logs", "lake", "build", "*.duckdb", "__pycache__"
            ),
        )
        self.project = project
        return project

    def read(self, sql: str, params: list | None = None) -> list[tuple]:
        return LakeReader(self.lake).rows(sql, params)

    def catalog(self, sql: str) -> list[tuple]:
        """Query the views dbt built (events, the ECS and OCSF views) in the DuckDB file."""
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


_WORKSPACE_VARIABLES = ("TRAILHOUSE_LAKE", "TRAILHOUSE_DB", "DBT_TARGET_PATH", "DBT_LOG_PATH")


def _repoint_views(database: Path, old_lake: str, new_lake: str) -> None:
    """dbt's views name lake files by absolute path: make the clone's views read the clone."""
    con = duckdb.connect(str(database))
    try:
        views = con.execute(
            "select view_name, sql from duckdb_views() where not internal and sql like ?",
            [f"%{old_lake}%"],
        ).fetchall()
        for _, sql in views:
            statement = sql.replace(old_lake, new_lake)
            con.execute("create or replace " + statement.removeprefix("CREATE "))
    finally:
        con.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path)


# -- the real CLIs ----------------------------------------------------------------------------


def invoke(ws: Workspace, *args: object, expect: int | None = 0) -> Result:
    """The real `ingest` CLI, in-process, against the workspace."""
    _refuse_frozen(ws, args)
    result = CliRunner().invoke(app, [str(a) for a in args], env=ws.env, catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, result.output
    return result


def run_ingest(ws: Workspace, *args: object) -> str:
    return invoke(ws, *args).output


# `ingest` commands that only read: allowed on a shared (frozen) lake.
# (`export` reads the lake and writes elsewhere: S3)
_READ_ONLY_COMMANDS = {
    "query", "status", "report", "replay", "detections", "config", "shell", "export"
}  # fmt: skip
# ... and subcommands that only read, of commands whose others write
_READ_ONLY_SUBCOMMANDS = {"alerts": {"list", "show"}}


def _refuse_frozen(ws: Workspace, args: tuple) -> None:
    if not ws.frozen:
        return
    command = str(args[0]) if args else ""
    writes_landing = command == "replay" and "--into-landing" in map(str, args)
    reads_only = command in _READ_ONLY_COMMANDS or (
        len(args) > 1 and str(args[1]) in _READ_ONLY_SUBCOMMANDS.get(command, set())
    )
    if not reads_only or writes_landing:
        raise AssertionError(f"`{command}` would write to a shared lake: use ws.copy(tmp_path)")


_DBT_LOCK = threading.Lock()


def run_dbt(ws: Workspace, *args: str, expect_pass: bool = True, isolated: bool = False) -> str:
    """dbt against the workspace; returns its log lines. In-process by default; `isolated`
    runs the dbt executable in a subprocess."""
    if ws.frozen:
        raise AssertionError("dbt would write to a shared lake's DuckDB file: use ws.copy()")
    if isolated:
        result = subprocess.run(
            [DBT, *args], cwd=ws.project, env=ws.env, capture_output=True, text=True, check=False
        )
        ok, output = result.returncode == 0, result.stdout + result.stderr
    else:
        result, lines = _invoke_dbt(ws, args)
        ok, output = result.success, "\n".join(lines)
    assert ok == expect_pass, output[-5000:]
    return output


def compile_inline(ws: Workspace, sql: str, *args: str) -> str:
    """The SQL dbt compiles `sql` (Jinja, macros) to."""
    result, lines = _invoke_dbt(ws, ("compile", "--inline", sql, *args))
    assert result.success, "\n".join(lines)[-5000:]
    return result.result.results[0].node.compiled_code


def _invoke_dbt(ws: Workspace, args: tuple[str, ...]):
    from dbt.cli.main import dbtRunner
    from dbt_common.events.base_types import EventLevel

    lines: list[str] = []

    def collect(event) -> None:
        if event.info.level in (EventLevel.INFO, EventLevel.WARN, EventLevel.ERROR):
            lines.append(event.info.msg)

    # dbt reads its flags and `env_var()`s from the process environment and resolves the
    # project from the working directory: both are the workspace's for the invocation.
    with _DBT_LOCK, _environment(ws.env), contextlib.chdir(ws.project), _parse_cache(ws, args):
        try:
            result = dbtRunner(callbacks=[collect]).invoke(
                [*args, "--quiet", "--no-use-colors", "--project-dir", str(ws.project),
                 "--profiles-dir", str(ws.project)]
            )  # fmt: skip
        finally:
            _close_dbt_database()
    if result.exception is not None:
        lines.append(f"{type(result.exception).__name__}: {result.exception}")
    return result, lines


# dbt parses the project (~13 s) once per workspace, then partial parsing reuses the parse
# saved in the workspace's target. A new workspace of the main project starts from the last
# parse this process saved instead. dbt's state check would reject it for the profile alone:
# it hashes the profile's values, and each workspace has its own database path and lake. The
# check below leaves those two out, and nothing else: the project reads neither while parsing
# (the lake's path is read when a model runs), and dbt still re-parses what differs (vars,
# files, the environment variables a file reads). Subprocess runs and project copies parse
# from scratch, as a fresh clone does.
_PARSED = Path(tempfile.mkdtemp(prefix="trailhouse-parse-")) / "partial_parse.msgpack"
atexit.register(shutil.rmtree, _PARSED.parent, True)


@contextlib.contextmanager
def _parse_cache(ws: Workspace, args: tuple[str, ...]) -> Iterator[None]:
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    saved = Path(ws.env["DBT_TARGET_PATH"]) / "partial_parse.msgpack"
    cached = ws.project == PROJECT_ROOT and "--vars" not in args
    if cached and _PARSED.exists() and not saved.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_PARSED, saved)
    state_check = ManifestLoader.build_manifest_state_check

    def without_workspace_paths(loader: ManifestLoader):
        check = state_check(loader)
        profile = dict(loader.root_project.credentials.connection_info())
        profile.pop("path", None)
        profile.pop("external_root", None)
        check.profile_hash = FileHash.from_contents(pprint.pformat(sorted(profile.items())))
        return check

    ManifestLoader.build_manifest_state_check = without_workspace_paths
    try:
        yield
    finally:
        ManifestLoader.build_manifest_state_check = state_check
    if cached and saved.exists():
        shutil.copyfile(saved, _PARSED)


def _close_dbt_database() -> None:
    """dbt-duckdb keeps its database open after an invocation (for the next one in the same
    process); close it, so the test (or a subprocess) can open the file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager._ENV = None


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- reading a lake ---------------------------------------------------------------------------


class LakeReader:
    """A lake read the way any engine would: one view per dataset over its Parquet files
    (hive partitions as columns), no dbt, no catalog. Landing zones are `landing_<source>`."""

    def __init__(self, lake: Path) -> None:
        self.con = duckdb.connect()
        self.con.execute("set TimeZone = 'UTC'")
        datasets = {p.parent.parent for p in lake.glob("*/*/*.parquet")}
        datasets |= {p.parent.parent for p in lake.glob("landing/*/*/*.parquet")}
        for directory in sorted(datasets):
            name = directory.name
            if directory.parent.name == "landing":
                name = f"landing_{name}"
            elif name.startswith("_") or name == "landing":
                continue
            pattern = sql_string(f"{directory}/*/*.parquet")
            self.con.execute(
                f'create view "{name}" as select * from read_parquet({pattern}, '
                "hive_partitioning = true, union_by_name = true)"
            )

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def dicts(self, sql: str, params: list | None = None) -> list[dict]:
        result = self.con.execute(sql, params or [])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def scalar(self, sql: str, params: list | None = None) -> Any:
        return self.con.execute(sql, params or []).fetchone()[0]


def alerts(ws: Workspace) -> list[dict]:
    return LakeReader(ws.lake).dicts("select * from alerts order by alert_id")


# -- CloudTrail-shaped inputs -----------------------------------------------------------------


def write_mmdb(path: Path, database_type: str, networks: dict[str, dict], ip_version=6) -> Path:
    """A MaxMind DB shaped like the real ones: IPv6 tree, IPv4 networks under ::/96 (where
    readers look up IPv4 addresses in an IPv6 database)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=ip_version,
        ipv4_compatible=ip_version == 6,
        database_type=database_type,
        languages=["en"],
        description=f"trailhouse test {database_type}",
    )
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def cloudtrail_record(event_id: str, when: str = "2024-08-02T08:53:24Z", **extra) -> dict:
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE000000001",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLE000000001",
            "userName": "alice",
        },
        "eventTime": when,
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17.12",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


def write_delivery_file(path: Path, records: list[dict]) -> Path:
    """A CloudTrail S3 delivery object: gzip of {"Records": [...]}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), mtime=0))
    return path


@pytest.fixture
def stratus_dir() -> Path:
    if not STRATUS.is_dir():
        pytest.skip(f"public fixtures not found at {STRATUS} (set TRAILHOUSE_SHARED)")
    return STRATUS


# -- the session lakes ------------------------------------------------------------------------

# The demo every read-only test shares: 5 days of synthetic CloudTrail with the ten injected
# attacks, and the public Apache sample.
DEMO = {"events": 6000, "days": 5, "end": "2026-01-10T00:00:00Z"}
# The Stratus Red Team detonations, a small demo after them and the Apache sample: the lake the
# detonation tests and the Spark parity test read.
STRATUS_DEMO = {"events": 1500, "days": 2, "end": "2026-11-20T12:00:00Z"}


def _session_root(factory: pytest.TempPathFactory) -> Path:
    """One directory for the whole run: under pytest-xdist, the workers' common parent."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_lake(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Workspace], None]
) -> Workspace:
    """The workspace `name`, built by `build` once per run (the first worker to get here
    builds it under a file lock, the others wait and read it), then frozen."""
    root = _session_root(factory) / "lakes" / name
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace.create(root / "ws")
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (root / ".failed").exists():
                pytest.fail(f"building the shared lake {name} failed in another worker")
            if not (root / ".built").exists():
                try:
                    build(ws)
                except BaseException:
                    (root / ".failed").touch()
                    raise
                (root / ".built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    ws.frozen = True
    return ws


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    def build(ws: Workspace) -> None:
        run_ingest(ws, "demo", *_demo_args(DEMO))
        run_ingest(ws, "load", "access-log", WEB_SAMPLE)
        _build_without_warnings(ws)

    return shared_lake(tmp_path_factory, "demo", build)


# The noise budget's lake: a week of 200,000 events, the benign look-alikes among them.
BENIGN = {"events": 200_000, "days": 7, "end": "2026-01-10T00:00:00Z"}


@pytest.fixture(scope="session")
def benign_lake(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    def build(ws: Workspace) -> None:
        run_ingest(ws, "demo", *_demo_args(BENIGN))
        _build_without_warnings(ws)

    return shared_lake(tmp_path_factory, "benign", build)


def demo_benign_episodes(ws: Workspace) -> dict[str, set[str]]:
    """The demo's benign look-alikes: episode kind -> the event ids of all its runs."""
    episodes: dict[str, set[str]] = {}
    for item in json.loads((ws.lake / "_sources/demo/benign.json").read_text()):
        episodes.setdefault(item["episode"], set()).update(item["event_ids"])
    return episodes


@pytest.fixture(scope="session")
def stratus_lake(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    if not STRATUS.is_dir():
        pytest.skip(f"public fixtures not found at {STRATUS} (set TRAILHOUSE_SHARED)")

    def build(ws: Workspace) -> None:
        run_ingest(ws, "load", "cloudtrail", STRATUS)
        run_ingest(ws, "demo", *_demo_args(STRATUS_DEMO))
        run_ingest(ws, "load", "access-log", WEB_SAMPLE)
        _build_without_warnings(ws)

    return shared_lake(tmp_path_factory, "stratus", build)


def _build_without_warnings(ws: Workspace) -> None:
    """The data tests that judge a record's own values only warn (one forged record must not
    stop a build); on real and realistic data every one of them holds."""
    out = run_dbt(ws, *BUILD)
    assert re.search(r"\bWARN=0 ERROR=0\b", out), out[-5000:]


def _demo_args(spec: dict) -> list[str]:
    return ["--events", str(spec["events"]), "--days", str(spec["days"]), "--end", spec["end"]]


def demo_scenarios(ws: Workspace) -> dict[str, set[str]]:
    """The demo's injected attacks: scenario label -> its event ids."""
    labelled = json.loads((ws.lake / "_sources/demo/scenarios.json").read_text())
    return {s["scenario"]: set(s["event_ids"]) for s in labelled}


# -- a loopback HTTP receiver -----------------------------------------------------------------


class Received:
    """What a receiver got. `statuses` are answered in order (200 once they run out; a 3xx
    redirects to `/elsewhere` on the same server); only bodies answered 200 count as
    delivered. `gets` counts GET requests (where a followed redirect would land)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: list[int] = []
        self.delay = 0.0  # seconds each POST is held before its answer (a slow receiver)
        self.fails_on: bytes | None = None  # a body holding this is answered 500, every time
        self.started = 0  # POSTs received, answered or not
        self.bodies: list[bytes] = []
        self.arrivals: list[float] = []
        self.refused = 0
        self.gets = 0
        self._changed = threading.Condition()

    def json(self) -> list[dict]:
        return [json.loads(body) for body in self.bodies]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Until `count` bodies were delivered (True) or `timeout` seconds passed (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.bodies) >= count, timeout)

    def wait_for_started(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.started >= count, timeout)

    def wait_for_refusals(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.refused >= count, timeout)

    def _answer(self, body: bytes) -> int:
        with self._changed:
            status = self.statuses.pop(0) if self.statuses else 200
            if self.fails_on is not None and self.fails_on in body:
                status = 500
            if status == 200:
                self.bodies.append(body)
                self.arrivals.append(time.monotonic())
            else:
                self.refused += 1
            self._changed.notify_all()
            return status


@pytest.fixture
def receiver() -> Iterator[Received]:
    with _serving() as state:
        yield state


@pytest.fixture
def receivers() -> Iterator[Callable[[], Received]]:
    """Start as many receivers as a test needs (one per destination), each on its own port."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(_serving())


@contextlib.contextmanager
def _serving() -> Iterator[Received]:
    state: Received

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state._changed:
                state.started += 1
                state._changed.notify_all()
            time.sleep(state.delay)
            status = state._answer(body)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url.rsplit("/", 1)[0] + "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            state.gets += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Received(f"http://127.0.0.1:{server.server_port}/hook")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# -- a real S3/SQS server on loopback ---------------------------------------------------------

FAKE_KEY_ID = "AKIATRAILHOUSETEST01"
FAKE_SECRET = "trailhouse-test-secret-must-never-be-printed"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """Credentials and endpoint for the loopback server; its state is reset for each test."""
    import urllib.request

    import boto3

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()

    class Clients:
        endpoint = moto_endpoint
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")

    return Clients


# -- a lake per test, for the CLI tests that use the process environment ----------------------


@pytest.fixture
def lake(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test workspace's lake, with the process environment pointing at it (for tests
    that run subprocesses or library code reading TRAILHOUSE_LAKE)."""
    for name in _WORKSPACE_VARIABLES:
        monkeypatch.setenv(name, workspace.env[name])
    return workspace.lake


@pytest.fixture
def ingest(workspace: Workspace, lake: Path) -> Callable[..., Result]:
    """Run the real `ingest` CLI in-process against the test's lake."""

    def run(*args: object, expect: int | None = 0) -> Result:
        # the environment as it is now: tests (e.g. the moto fixture) may have changed it
        return invoke(workspace.with_env(**os.environ), *args, expect=expect)

    return run


# -- markers ----------------------------------------------------------------------------------


# Modules run longest first, so under pytest-xdist (`--dist loadscope`, a module per worker
# at a time) the last module to finish is a short one.
_COST = {"spark": 0, "slow": 1, "browser": 2, "e2e": 3}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads a shared lake is end to end, whether or not its module says so."""
    for item in items:
        if {"demo_lake", "stratus_lake"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
    cost: dict[str, int] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        weight = min([_COST[m] for m in marks if m in _COST], default=len(_COST))
        cost[item.module.__name__] = min(cost.get(item.module.__name__, weight), weight)
    items.sort(key=lambda item: cost[item.module.__name__])
