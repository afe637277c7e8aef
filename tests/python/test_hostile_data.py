"""Hostile data: whoever can write a record into the trail controls strings that trailhouse
turns into SQL, HTML and terminal output. Each test is built from the attack it stops."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import EndpointConnectionError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ingest.delivery import DeliveryError, post
from ingest.filters import FUNCTIONS, FilterError, canonical
from ingest.lake import Lake
from ingest.pull import PullSummary
from ingest.query import render, resolve_query
from ingest.report import _json as report_json
from ingest.report import _label as chart_label
from ingest.watch import Watcher

from conftest import (
    BUILD,
    PROJECT_ROOT,
    Received,
    Workspace,
    cloudtrail_record,
    compile_inline,
    invoke,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

# A principal ARN written to close the quoted literal an analysis puts it in.
SQL_IN_AN_ARN = "x' or true or '"


def test_a_value_from_the_lake_is_never_sql_in_an_analysis() -> None:
    """`ingest report` hands each principal's ARN (lake data) to principal_timeline: an ARN
    that closes its quote must match itself, not widen the page to every event."""
    con = duckdb.connect()
    con.execute(
        "create table cloudtrail_events as select * from (values "
        "(timestamp '2026-01-01 10:00', 'alice', 'arn:aws:iam::1:user/alice', 'e-alice'), "
        "(timestamp '2026-01-01 11:00', 'x', ?, 'e-hostile')) "
        "as t(event_time, principal_name, principal_arn, event_id)",
        [SQL_IN_AN_ARN],
    )
    for column in ("recipient_account_id", "aws_region", "event_source", "event_name",
                   "resource_name", "source_ip_address", "user_agent", "error_code"):  # fmt: skip
        con.execute(f"alter table cloudtrail_events add column {column} varchar")
    template, _ = resolve_query("principal_timeline", PROJECT_ROOT)
    for principal, expected in ((SQL_IN_AN_ARN, ["e-hostile"]), ("alice", ["e-alice"])):
        sql = render(template, {"principal": principal})
        assert con.execute(f"select event_id from ({sql})").fetchall() == [(e,) for e in expected]


def test_a_number_option_is_a_number() -> None:
    template, _ = resolve_query("top_api_calls", PROJECT_ROOT)
    sql = render(template, {"top": "1; drop table cloudtrail_events"})
    assert "drop table" not in sql


def test_a_lake_folder_name_is_never_sql(workspace: Workspace, tmp_path: Path) -> None:
    """Whoever can write the lake can name a folder; `ingest query` makes a view per dataset
    folder, so a name that closes the view's quotes would run its SQL."""
    target = tmp_path / "pwned.csv"
    name = f"x\" as select 1 as a; copy (select 42 as n) to '{target}'; create view \"y"
    partition = workspace.lake / name / "event_date=2026-01-01"
    partition.mkdir(parents=True)
    pq.write_table(pa.table({"event_id": ["e-1"]}), partition / "0.parquet")
    result = invoke(workspace, "query", "--list")
    assert not target.exists() and "pwned" not in result.output


# -- collection filters: a grammar, not SQL -----------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "stored"),
    [
        ("event_name <> 'X' -- note", "event_name <> 'X'"),
        ("event_name <> 'X' /* note */", "event_name <> 'X'"),
        ("status < 400", "status < 400"),
        ("event_id != 'a''b'", "event_id <> 'a''b'"),
        ("lower(user_agent) like '%terraform%' and not read_only",
         "LOWER(user_agent) LIKE '%terraform%' AND NOT read_only"),
        ("event_name in ('A', 'B') or error_code is null",
         "event_name IN ('A', 'B') OR error_code IS NULL"),
    ],
)  # fmt: skip
def test_filters_are_stored_in_their_canonical_form(condition: str, stored: str) -> None:
    assert canonical(condition) == stored
    assert canonical(stored) == stored


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("true or exists (select 1 from read_csv('/etc/passwd'))", "not allowed"),
        ("event_id in (select event_id from alerts)", "'subquery' is not allowed"),
        ("read_text('/etc/shadow') is not null", "function 'read_text'"),
        ("getenv('AWS_SECRET_ACCESS_KEY') = ''", "function 'getenv'"),
        ("true; copy (select 1) to '/tmp/x'", "one condition"),
        ("other.event_name = 'x'", "a column, not"),
        ("cast(status as int) = 1", "function 'cast'"),
        ("event_name = = 1", "not a SQL condition"),
    ],
)
def test_anything_but_the_grammar_is_refused(condition: str, reason: str) -> None:
    with pytest.raises(FilterError, match=re.escape(reason)):
        canonical(condition)


@pytest.mark.e2e
def test_a_filter_with_a_comment_builds_and_a_tampered_filter_file_is_refused(
    workspace: Workspace,
) -> None:
    ws = workspace
    trail = write_delivery_file(
        ws.root / "trail.json.gz",
        [cloudtrail_record("keep"), cloudtrail_record("drop", eventName="X")],
    )
    config = ws.root / "trailhouse.yml"
    config.write_text(
        "collections:\n  local:\n    type: cloudtrail_file\n"
        f"    paths: [{json.dumps(str(trail))}]\n"
        "    filters: [\"event_name <> 'X' -- not this one\"]\n"
    )
    ws.env["TRAILHOUSE_CONFIG"] = str(config)
    run_ingest(ws, "pull")
    run_dbt(ws, *BUILD)
    assert ws.read("select event_id from cloudtrail_events") == [("keep",)]

    # whoever can write the lake rewrites the recorded filter
    state = ws.lake / "_state" / "collections" / "filters.parquet"
    table = pq.read_table(state)
    hostile = "true or exists (select 1 from read_csv('/etc/passwd'))"
    pq.write_table(table.set_column(3, "condition", pa.array([hostile])), state)
    out = run_dbt(ws, *BUILD, expect_pass=False)
    assert "refusing the filters recorded in the lake" in out


SPARK_ALLOWED = [
    "status < 400",
    "path NOT LIKE '/healthz%'",
    "event_id <> 'a''b'",
    "LOWER(user_agent) LIKE '%terraform%' AND NOT read_only",
    "event_name IN ('A', 'B') OR error_code IS NULL",
    "COALESCE(error_code, '') = '' AND bytes_sent BETWEEN 1 AND 2048 AND status > -1",
]
SPARK_REFUSED = [
    "event_name <> 'X' -- note",
    "event_name <> 'X' /* note */",
    "reflect('java.lang.Runtime', 'getRuntime') is null",
    "reflect ('java.lang.Runtime', 'getRuntime') is null",  # a call despite the space
    "java_method('java.lang.System', 'exit', 0) = 1",
    "event_name in (select event_name from alerts)",
    "exists (values (1))",
    "`event_name` = 'x'",
    'event_name = "x"',
    "true; drop table landing.collection_filters",
    "status * 2 > 1 or event_name || 'x' = 'y'",  # no arithmetic in the grammar
    # one DuckDB literal, but Spark reads \' as a quote: `or reflect(1) or` becomes code
    "'\\'' or reflect(1) or '' = '",
    # Spark substitutes ${...} inside quotes: a filter reading the environment
    "'${env:AWS_SECRET_ACCESS_KEY}' like event_name",
    # out of the collection's parentheses, into every collection's rows
    "true), true)) and (coalesce((event_name = 'nothing'",
    "event_name rlike '(a+)+$'",
    "current_user = 'x'",
    "",
]


def test_spark_builds_accept_only_filters_in_the_grammar(workspace: Workspace) -> None:
    """Spark runs no Python in dbt, so its builds check a recorded filter token by token
    (macros/enrichment.sql): what the grammar stores passes, the attacks do not."""
    cases = SPARK_ALLOWED + SPARK_REFUSED
    calls = " ".join(
        f"{{{{ trailhouse.spark__recorded_filter_ok({json.dumps(c)}, none) }}}}|" for c in cases
    )
    verdicts = compile_inline(workspace, calls).split("|")[: len(cases)]
    assert [v.strip() for v in verdicts] == ["True"] * len(SPARK_ALLOWED) + ["False"] * len(
        SPARK_REFUSED
    )
    for condition in SPARK_ALLOWED:
        assert canonical(condition) == condition  # what `ingest pull` records passes


def test_the_filter_functions_are_one_list() -> None:
    import yaml

    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    assert project["vars"]["filter_functions"] == FUNCTIONS


# -- terminal and HTML -------------------------------------------------------------------------

MARKUP_IN_A_USER_AGENT = "Mozilla/5.0 [/] [link=https://evil.example]verified[/link] [bold red]"


def test_markup_in_a_value_is_printed_as_text(workspace: Workspace) -> None:
    """`[/]` in a user agent crashed `ingest query`; `[link=...]` could forge evidence."""
    literal = MARKUP_IN_A_USER_AGENT.replace("'", "''")
    out = run_ingest(workspace, "query", f"select '{literal}' as user_agent, 'a\x1b[2Jb' as x")
    assert MARKUP_IN_A_USER_AGENT in out
    assert "\x1b" not in out and "a\\x1b[2Jb" in out  # a terminal escape is shown, not obeyed


def test_report_data_cannot_close_its_script_element() -> None:
    hostile = "</script><script>alert(document.domain)</script><!--"
    embedded = report_json([{"user_agent": hostile, "n": 1}])
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == [{"user_agent": hostile, "n": 1}]
    assert chart_label('<a href="javascript:alert(1)">x</a>') == (
        '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'
    )


# -- one bad value never stops the pipeline ---------------------------------------------------

DEEP = json.loads("[" * 200 + "]" * 200)
WRONG = st.sampled_from([
    "a string", "", 10**30, -1, 3.5e300, True, None, [], {}, ["x", 1, None], {"x": {"y": [1]}},
    DEEP, "1970-01-01T00:00:00Z", "2999-12-31T23:59:59Z", "2026-02-30T10:00:00Z", 1722588804,
    "\u202e\x1b[2J</script>", "x' or '1'='1",
])  # fmt: skip
# Every field the models read, top level and nested (userIdentity, sessionContext, the
# documents detections look into).
FIELDS = [
    ("userIdentity",), ("userIdentity", "type"), ("userIdentity", "arn"),
    ("userIdentity", "accountId"), ("userIdentity", "userName"), ("userIdentity", "accessKeyId"),
    ("userIdentity", "sessionContext"), ("userIdentity", "sessionContext", "attributes"),
    ("userIdentity", "sessionContext", "sessionIssuer"), ("requestParameters",),
    ("responseElements",), ("additionalEventData",), ("resources",), ("serviceEventDetails",),
    ("tlsDetails",), ("sourceIPAddress",), ("userAgent",), ("errorCode",), ("errorMessage",),
    ("readOnly",), ("managementEvent",), ("recipientAccountId",), ("awsRegion",),
    ("eventType",), ("eventCategory",), ("sharedEventID",), ("vpcEndpointId",),
    ("vpcEndpointAccountId",),
    ("requestParameters", "LifecycleConfiguration"), ("requestParameters", "policy"),
    ("requestParameters", "ipPermissions"), ("requestParameters", "userName"),
    ("eventVersion",), ("requestID",), ("eventTime",),
]  # fmt: skip
LIFECYCLE = {"bucketName": "b", "LifecycleConfiguration": {"Rule": [
    {"Expiration": {"Days": 99999999999999999999}, "Status": "Enabled"}]}}  # fmt: skip


def _mutated(base: dict, path: tuple[str, ...], value: object) -> dict:
    record = json.loads(json.dumps(base))
    node = record
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return record


@pytest.mark.e2e
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])  # fmt: skip
@given(mutations=st.lists(
    st.lists(st.tuples(st.sampled_from(FIELDS), WRONG), min_size=1, max_size=3),
    min_size=30, max_size=30,
))  # fmt: skip
def test_wrong_types_in_any_field_never_fail_the_build(
    tmp_path_factory: pytest.TempPathFactory, mutations: list
) -> None:
    """Records with the wrong type in the fields the models read go through `dbt build`
    (staging, enrichment, every detection, alerts): it passes, and every record is either a
    row of the lake or quarantined with its reason."""
    ws = Workspace.create(tmp_path_factory.mktemp("hostile"))
    base = cloudtrail_record(
        "base", when="2026-02-01T10:00:00Z", eventSource="s3.amazonaws.com",
        eventName="PutBucketLifecycleConfiguration", readOnly=False,
        requestParameters=LIFECYCLE,
    )  # fmt: skip
    files = ws.root / "records"
    for n, changes in enumerate(mutations):
        record = {**base, "eventID": f"hostile-{n}"}
        for path, value in changes:
            record = _mutated(record, path, value)
        write_delivery_file(files / f"{n}.json.gz", [record])
    # and bytes that are not UTF-8 inside a record's strings
    (files / "latin1.json").write_bytes(
        json.dumps({"Records": [{**base, "eventID": "hostile-latin1", "userAgent": "UA"}]})
        .encode()
        .replace(b'"UA"', b'"caf\xe9 \xff"')
    )
    run_ingest(ws, "load", "cloudtrail", files)
    run_dbt(ws, *BUILD)
    landed = (
        {r[0] for r in ws.read("select event_id from cloudtrail_events")}
        if (ws.lake / "cloudtrail_events").is_dir()
        else set()
    )
    reasons = list((ws.lake / "_quarantine" / "cloudtrail").glob("*.reason.json"))
    assert len(landed) + len(reasons) == len(mutations) + 1


# -- alert delivery ----------------------------------------------------------------------------

SECRET_HOOK_PATH = "/services/T0000/B0000/hook-token-that-must-stay-secret"


def test_a_redirect_is_not_a_delivery(receiver: Received) -> None:
    """A receiver that answers 302 did not take the alert; following the redirect would turn
    the POST into a GET elsewhere and count that as delivered."""
    receiver.statuses = [302]
    with pytest.raises(DeliveryError, match="redirect"):
        post(receiver.url, b'{"alert": 1}', attempts=2, sleep=lambda _: None)
    assert receiver.gets == 0 and receiver.bodies == []


def test_a_webhook_url_is_never_shown_whole(receiver: Received) -> None:
    secret = receiver.url.rsplit("/", 1)[0] + SECRET_HOOK_PATH
    receiver.statuses = [403]
    with pytest.raises(DeliveryError) as refused:
        post(secret, b"{}", sleep=lambda _: None)
    unreachable = "http://127.0.0.1:9" + SECRET_HOOK_PATH
    with pytest.raises(DeliveryError) as down:
        post(unreachable, b"{}", attempts=1)
    for error in (refused.value, down.value):
        assert "hook-token" not in str(error) and "127.0.0.1" in str(error)


def test_watch_refuses_a_bad_webhook_url_without_echoing_it(workspace: Workspace) -> None:
    for url in ("ftp://hooks.example" + SECRET_HOOK_PATH, "https://user:pw@hooks.example/x"):
        result = invoke(
            workspace, "watch", "cloudtrail", "--bucket", "b", "--webhook", url, expect=2
        )
        assert "hook-token" not in result.output and "pw@" not in result.output
        assert "--webhook" in result.output
    env = workspace.with_env(TRAILHOUSE_WEBHOOK_URL="https://hooks.example" + SECRET_HOOK_PATH)
    assert "hook-token" not in invoke(env, "watch", "cloudtrail", "--help").output
    # from the config, as a reference to the environment
    config = workspace.root / "trailhouse.yml"
    config.write_text("watch:\n  webhook: ${TEAM_HOOK}\n")
    env = workspace.with_env(TEAM_HOOK="ftp://hooks.example" + SECRET_HOOK_PATH)
    result = invoke(env, "watch", "cloudtrail", "--bucket", "b", "--config", config, expect=2)
    assert "trailhouse.yml:2: watch.webhook: not an http(s) URL" in result.output
    assert "hook-token" not in result.output


def test_a_hung_build_is_stopped_and_retried_next_cycle(workspace: Workspace) -> None:
    hung = workspace.root / "dbt"
    hung.write_text("#!/bin/sh\nsleep 30\n")
    hung.chmod(0o755)
    lake = Lake.at(str(workspace.lake))
    lake.ensure()
    watcher = Watcher(
        lake, duckdb.connect(), lambda: None, workspace.root, [], dbt=str(hung),
        build_timeout=0.5,
    )  # fmt: skip
    started = time.monotonic()
    ok, log = watcher.build()
    assert not ok and "timed out after 0.5 s" in log
    assert time.monotonic() - started < 10


class _Pulls:
    """A pull that fails as S3 does when the network drops, then lands nothing."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def __call__(self) -> PullSummary:
        if self.failures:
            self.failures -= 1
            raise EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")
        return PullSummary()


def _counting_dbt(root: Path, exit_code: int) -> Path:
    script = root / f"dbt-{exit_code}"
    script.write_text(f"#!/bin/sh\necho run >> {root / 'builds'}\nexit {exit_code}\n")
    script.chmod(0o755)
    return script


@pytest.mark.e2e
def test_a_transient_error_never_ends_the_watch_and_landing_ahead_is_built(
    workspace: Workspace,
) -> None:
    """S3 down for a cycle is logged and retried; a restart finds records landed after the
    last successful build (a build killed, or failed) and builds, though nothing new lands."""
    lake = Lake.at(str(workspace.lake))
    trail = write_delivery_file(workspace.root / "t.json.gz", [cloudtrail_record("landed")])
    run_ingest(workspace, "load", "cloudtrail", trail)  # landed, never built
    builds = workspace.root / "builds"

    def watcher(pulls: _Pulls, exit_code: int) -> Watcher:
        dbt = _counting_dbt(workspace.root, exit_code)
        return Watcher(lake, duckdb.connect(), pulls, workspace.root, [], dbt=str(dbt))

    failing = watcher(_Pulls(failures=1), exit_code=1)
    first = failing.cycle()
    assert any("pull failed" in e and "EndpointConnectionError" in e for e in first.errors)
    assert any("dbt build failed" in e for e in first.errors)  # landing was ahead: it tried
    failing.cycle()  # the build failed: still ahead, tried again
    assert builds.read_text().count("run") == 2

    run_dbt(workspace, *BUILD)  # a build succeeds: nothing is ahead any more
    quiet = watcher(_Pulls(failures=0), exit_code=0)
    assert quiet.cycle().errors == [] and builds.read_text().count("run") == 2
