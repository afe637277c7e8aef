"""`ingest sigma import`: Sigma rules compiled into dbt detections.

- modifier semantics: random rules and records, compiled through the real compiler and dbt
  macros and run in DuckDB, agree with the reference semantics (hypothesis);
- every SigmaHQ CloudTrail rule in the shared fixtures compiles, its generated true-positive
  and true-negative unit tests pass in dbt, and the imported rules raise alerts on the Stratus
  detonations and the demo scenarios they describe;
- counting rules become windowed thresholds; re-import is idempotent, `--check` sees drift,
  a rule that cannot be compiled writes nothing and says why.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sigma.rule import SigmaRule
from typer.testing import CliRunner

from ingest.cli import app
from ingest.duck import load_extension, sql_string
from ingest.sigma import compiler, semantics
from ingest.sigma.fields import event_row

from conftest import (
    BUILD,
    SHARED_FIXTURES,
    Workspace,
    compile_inline,
    run_dbt,
)

SIGMA_FIXTURES = SHARED_FIXTURES / "sigma_cloudtrail"

# Our own rules (written for these tests): counting rules in both spellings, and rules that
# must be refused with a reason.
OWN_RULES = {
    "burst_of_describe_calls.yml": """
        title: Burst of DescribeInstances from one address
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000001
        status: experimental
        level: medium
        tags: [attack.discovery, attack.t1580]
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventName: DescribeInstances
            timeframe: 10m
            condition: selection | count() by sourceIPAddress > 4
    """,
    "many_regions.yml": """
        title: One principal in many regions
        name: api_calls
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000002
        level: low
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventSource|endswith: '.amazonaws.com'
                errorCode: null
            condition: selection
        ---
        title: One principal calls APIs in three regions within an hour
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000003
        level: medium
        correlation:
            type: value_count
            rules: [api_calls]
            group-by: [userIdentity.arn]
            timespan: 1h
            condition: {gte: 3, field: awsRegion}
    """,
    "failed_logins_correlation.yml": """
        title: Failed console login
        name: failed_login
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000004
        level: low
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventName: ConsoleLogin
                responseElements.ConsoleLogin: Failure
            condition: selection
        ---
        title: Failed console logins from one address
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000005
        level: high
        correlation:
            type: event_count
            rules: [failed_login]
            group-by: [sourceIPAddress]
            timespan: 15m
            condition: {gt: 2}
    """,
    "keyword_search.yml": """
        title: Keyword search
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000006
        logsource: {product: aws, service: cloudtrail}
        detection:
            keywords: [mimikatz]
            condition: keywords
    """,
    "temporal.yml": """
        title: Base
        name: base
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection: {eventName: StopLogging}
            condition: selection
        ---
        title: Temporal correlation
        correlation:
            type: temporal
            rules: [base]
            group-by: [userIdentity.arn]
            timespan: 5m
    """,
    "day_long_window.yml": """
        title: Many DescribeInstances in a day
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000007
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventName: DescribeInstances
            timeframe: 1d
            condition: selection | count() by sourceIPAddress > 400
    """,
    # A rule's text reaches YAML that dbt renders as Jinja, Markdown and dbt docs' HTML: none
    # of it may run (env_var without a default would fail the parse: the secret is never set).
    "hostile_text.yml": """
        title: "Stop{{ env_var('TH_NEVER_SET') }} <script>alert(1)</script> | {% if 1 %}"
        id: 0e7c6a1e-1111-4c1b-9a3e-000000000008
        description: "{% endif %}{# unclosed {{ env_var('TH_NEVER_SET') }}"
        level: high
        tags: [attack.defense-evasion, attack.t1562.008]
        falsepositives: ["{{ env_var('TH_NEVER_SET') }}"]
        logsource: {product: aws, service: cloudtrail}
        detection:
            selection:
                eventName: "Stop{{ env_var('TH_NEVER_SET') }}{%Logging"
            condition: selection
    """,
    "not_cloudtrail.yml": """
        title: A Windows rule
        logsource: {product: windows, category: process_creation}
        detection:
            selection: {Image|endswith: '\\\\cmd.exe'}
            condition: selection
    """,
}
REFUSED = {
    "keyword_search.yml": "keyword search without a field",
    "temporal.yml": "correlation type 'temporal'",
    "not_cloudtrail.yml": "not a CloudTrail rule",
    "day_long_window.yml": "timeframe '1d': sliding windows up to 60 minutes",
}


def write_own_rules(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in OWN_RULES.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


def sigma_import(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sigma", "import", *args], catch_exceptions=False)
    return result.exit_code, result.output


# -- modifier semantics: compiler + macros + DuckDB against the reference ---------------------

TEXT = st.text(alphabet="aAbB%_\\*?'{} ", max_size=6)
FIELDS = ["eventName", "requestParameters.policy.name"]


@st.composite
def string_case(draw: st.DrawFn) -> tuple[str, object, object]:
    modifier = draw(st.sampled_from(["", "contains", "startswith", "endswith", "cased",
                                     "contains|all", "contains|cased"]))  # fmt: skip
    pattern = draw(TEXT)
    if modifier == "contains|all":
        pattern = [pattern, draw(TEXT)]
    literal = pattern if isinstance(pattern, str) else "".join(pattern)
    # a value built around the pattern's text matches often enough to be interesting
    value = draw(
        st.one_of(
            TEXT,
            st.builds(
                lambda a, b, upper: a + (literal.upper() if upper else literal) + b,
                TEXT,
                TEXT,
                st.booleans(),
            ),
        )
    )
    return modifier, pattern, value


@st.composite
def other_case(draw: st.DrawFn) -> tuple[str, object, object]:
    kind = draw(st.sampled_from(["re", "re|i", "cidr", "lt", "gte", "exists", "null", "number"]))
    if kind.startswith("re"):
        pattern = draw(st.sampled_from(["^ab", "b.$", "a[%_]b", "(x|y)z+", "\\d{2}"]))
        return kind, pattern, draw(st.text(alphabet="aAbBxyz%_19", max_size=6))
    if kind == "cidr":
        network = draw(st.sampled_from(["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]))
        value = draw(st.one_of(st.ip_addresses().map(str), st.sampled_from(["10.1.2.3",
                               "192.168.1.77", "2001:db8::5", "AWS Internal"])))  # fmt: skip
        return kind, network, value
    if kind in {"lt", "gte"}:
        return kind, draw(st.integers(-5, 5)), draw(st.one_of(
            st.integers(-6, 6).map(str), st.sampled_from(["x", "1.5", ""])))  # fmt: skip
    if kind == "exists":
        return kind, draw(st.booleans()), draw(st.sampled_from(["v", ""]))
    if kind == "number":
        return "", draw(st.integers(0, 3)), draw(st.sampled_from(["0", "1", "2", "x"]))
    return "", None, draw(st.sampled_from(["v", ""]))


@st.composite
def rule_case(draw: st.DrawFn) -> tuple[dict, dict]:
    modifier, pattern, value = draw(st.one_of(string_case(), other_case()))
    path = draw(st.sampled_from(FIELDS))
    negate = draw(st.booleans())
    key = f"{path}|{modifier}" if modifier else path
    rule = {
        "title": "property",
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {"sel": {key: pattern}, "condition": "not sel" if negate else "sel"},
    }
    shape = draw(st.sampled_from(["scalar", "array", "absent", "json-null"]))
    stored = {"scalar": value, "array": ["zz", value], "absent": None, "json-null": None}[shape]
    record: dict = {"eventID": "e"}
    if path == "eventName":
        if shape in {"scalar", "array"}:
            record["eventName"] = value
    elif shape != "absent":
        record["requestParameters"] = {"policy": {"name": stored}}
    return rule, record


def _row_sql(case_id: int, record: dict) -> str:
    row = event_row(record)
    event_name = sql_string(row["event_name"]) if "event_name" in row else "null"
    params = sql_string(row["request_parameters"]) if "request_parameters" in row else "null"
    # raw: the values may hold Jinja delimiters such as `{%`
    return (
        f"select {case_id} as case_id, cast({{% raw %}}{event_name}{{% endraw %}} as varchar) "
        f"as event_name, cast({{% raw %}}{params}{{% endraw %}} as json) as request_parameters"
    )


@pytest.fixture(scope="module")
def compile_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("sigma-compile"))


# Each example costs a dbt compile, so shrinking is off: the failure message shows the case.
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(cases=st.lists(rule_case(), min_size=120, max_size=120))
def test_modifier_semantics_match_the_reference(compile_ws: Workspace, cases: list) -> None:
    """Each case is one rule and one record; the compiled SQL and the Python reference must
    agree on every one (wildcards and LIKE metacharacters in values, case, arrays, missing
    fields under `not`, regex, CIDR, numbers, null and exists)."""
    selects, expected = [], {}
    for case_id, (rule_dict, record) in enumerate(cases):
        tree = SigmaRule.from_dict(rule_dict).detection.parsed_condition[0].parse()
        expected[case_id] = semantics.matches(tree, record)
        selects.append(
            f"select case_id, coalesce(({compiler.where(tree)}), false) as hit "
            f"from ({_row_sql(case_id, record)})"
        )
    sql = compile_inline(compile_ws, "\nunion all\n".join(selects))
    con = duckdb.connect()
    load_extension(con, "inet")
    actual = dict(con.execute(sql).fetchall())
    wrong = [(cases[i], expected[i], actual[i]) for i in expected if expected[i] != actual[i]]
    assert not wrong, f"{len(wrong)} disagreement(s), first: {wrong[0]}"


def test_like_metacharacters_are_literal_in_sigma_values() -> None:
    """`contains: 'a%b'` must not match 'aXb': the compiled pattern escapes % and _."""
    tree = SigmaRule.from_dict({
        "title": "t", "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {"sel": {"eventName|contains": "a%b_c"}, "condition": "sel"},
    }).detection.parsed_condition[0].parse()  # fmt: skip
    assert 'text_like("event_name", "%a\\\\%b\\\\_c%")' in compiler.where(tree)
    assert semantics.matches(tree, {"eventName": "xa%b_cx"})
    assert not semantics.matches(tree, {"eventName": "aXbYc"})


# -- the SigmaHQ CloudTrail rules, end to end ---------------------------------------------------


@pytest.fixture(scope="module")
def imported(stratus_lake: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The Stratus lake (the detonations and a small demo) with every fixture rule and our own
    rules imported into a project copy, built by dbt; the imported rules' unit tests run."""
    ws = stratus_lake.copy(tmp_path_factory.mktemp("sigma") / "ws")
    project = ws.project_copy()
    own = write_own_rules(ws.root / "own_rules")
    code, output = sigma_import(str(SIGMA_FIXTURES), str(own), "--project", str(project))
    assert code == 0, output
    build = run_dbt(ws, *BUILD)
    build += run_dbt(ws, "test", "--select", "test_type:unit,path:models/detections/sigma")
    return {"ws": ws, "project": project, "own": own, "output": output, "build": build}


def _sigma_models(project: Path) -> dict[str, dict]:
    models = {}
    for path in (project / "models" / "detections" / "sigma").glob("*.yml"):
        document = yaml.safe_load(path.read_text())
        tests = [t["name"] for t in document.get("unit_tests", [])]
        for model in document["models"]:
            models[model["name"]] = {"meta": model["config"]["meta"], "tests": tests}
    return models


@pytest.mark.e2e
def test_every_fixture_rule_compiles_with_passing_generated_tests(imported: dict) -> None:
    rules = sorted(SIGMA_FIXTURES.glob("*.yml"))
    models = _sigma_models(imported["project"])
    passed = [line for line in imported["build"].splitlines() if " PASS " in line]
    from_fixtures = {n: m for n, m in models.items() if m["meta"]["sigma"]["file"] in
                     {r.name for r in rules}}  # fmt: skip
    assert len(rules) >= 50
    assert len(from_fixtures) / len(rules) >= 0.95, imported["output"]
    for name, model in from_fixtures.items():
        assert sorted(model["tests"]) == [f"{name}__fires", f"{name}__ignores"], name
        # every generated unit test ran in the build and passed
        for test in model["tests"]:
            assert any(f"{name}::{test}" in line and "PASS" in line for line in passed), test
    assert " FAIL " not in imported["build"] and " ERROR " not in imported["build"]


@pytest.mark.e2e
def test_rule_text_is_never_rendered_as_jinja(imported: dict) -> None:
    """The build above parsed the hostile rule (a rendered env_var would have failed it); its
    prose is kept inert, and its generated tests match the rule's exact value."""
    model = "sigma_hostile_text"
    meta = _sigma_models(imported["project"])[model]["meta"]
    assert meta["title"].startswith("Stop{ { env_var('TH_NEVER_SET') }}")
    assert meta["description"] == "{ % endif %}{ # unclosed { { env_var('TH_NEVER_SET') }}"
    for test in ("fires", "ignores"):
        assert any(f"{model}::{model}__{test}" in line and " PASS " in line
                   for line in imported["build"].splitlines()), test  # fmt: skip
    row = (imported["ws"].root / "target" / "manifest.json").read_text()
    assert "Stop{{ env_var('TH_NEVER_SET') }}{%Logging" in row
    catalog = (imported["project"] / "models" / "detections" / "coverage.md").read_text()
    assert "&lt;script&gt;" in catalog and "<script>" not in catalog and "{{ env" not in catalog
    assert "\\| { % if 1 %}" in catalog


@pytest.mark.e2e
def test_fixture_meta_maps_level_tags_and_provenance(imported: dict) -> None:
    models = _sigma_models(imported["project"])
    meta = models["sigma_aws_cloudtrail_imds_malicious_usage"]["meta"]
    assert meta["detection_id"] == "sigma-352a918a-34d8-4882-8470-44830c507aa3"
    assert meta["severity"] == "high"
    assert meta["mitre_techniques"] == ["T1078", "T1078.002"]
    assert "privilege-escalation" in meta["mitre_tactics"]
    assert (
        meta["sigma"]["author"]
        and meta["sigma"]["file"] == "aws_cloudtrail_imds_malicious_usage.yml"
    )
    assert meta["false_positives"] and meta["references"]


def _alerts_by_source(imported: dict) -> dict[str, set[str]]:
    """Stratus technique (or 'demo') → the Sigma rule files whose alerts cite its events."""
    rows = imported["ws"].read("""
        select
            coalesce(regexp_extract(e.source_object, '([^/]+)[.]jsonl$', 1), '') as technique,
            a.detection_id
        from alerts as a, unnest(a.event_ids) as u(event_id)
        join cloudtrail_events as e using (event_id)
        where a.detection_id like 'sigma-%'
    """)
    files = {m["meta"]["detection_id"]: m["meta"]["sigma"]["file"]
             for m in _sigma_models(imported["project"]).values()}  # fmt: skip
    found: dict[str, set[str]] = {}
    for technique, detection_id in rows:
        found.setdefault(technique or "demo", set()).add(files[detection_id])
    return found


STRATUS_EXPECTED = {
    "aws.defense-evasion.cloudtrail-stop": "aws_cloudtrail_disable_logging.yml",
    "aws.defense-evasion.cloudtrail-delete": "aws_cloudtrail_disable_logging.yml",
    "aws.defense-evasion.vpc-remove-flow-logs": "aws_cloudtrail_vpc_flow_logs_deleted.yml",
    "aws.exfiltration.ec2-security-group-open-port-22-ingress":
        "aws_cloudtrail_security_group_change_ingress_egress.yml",
    "aws.initial-access.console-login-without-mfa":
        "aws_cloudtrail_console_login_success_without_mfa.yml",
    "aws.persistence.iam-backdoor-user": "aws_iam_backdoor_users_keys.yml",
    "aws.persistence.lambda-layer-extension": "aws_new_lambda_layer_attached.yml",
    "aws.execution.ssm-send-command": "aws_cloudtrail_ssm_malicious_usage.yml",
    "aws.privilege-escalation.iam-update-user-login-profile": "aws_update_login_profile.yml",
}  # fmt: skip


@pytest.mark.e2e
def test_imported_rules_alert_on_stratus_detonations(imported: dict) -> None:
    found = _alerts_by_source(imported)
    for technique, rule in STRATUS_EXPECTED.items():
        assert rule in found.get(technique, set()), (technique, found.get(technique))


DEMO_EXPECTED = [
    "aws_cloudtrail_disable_logging.yml",
    "aws_cloudtrail_guardduty_detector_deleted_or_updated.yml",
    "aws_cloudtrail_console_login_success_without_mfa.yml",
    "aws_iam_backdoor_users_keys.yml",
]


@pytest.mark.e2e
def test_imported_rules_alert_on_demo_scenarios(imported: dict) -> None:
    found = _alerts_by_source(imported)["demo"]
    for rule in DEMO_EXPECTED:
        assert rule in found, (rule, sorted(found))


@pytest.mark.e2e
def test_counting_rules_become_windowed_thresholds(imported: dict) -> None:
    sigma_dir = imported["project"] / "models" / "detections" / "sigma"
    burst = (sigma_dir / "sigma_burst_of_describe_calls.sql").read_text()
    assert 'threshold_matches("matching", ["source_ip_address"], minutes=10, at_least=5)' in burst
    regions = (sigma_dir / "sigma_many_regions_1.sql").read_text()
    assert 'distinct="aws_region"' in regions and "minutes=60, at_least=3" in regions
    logins = (sigma_dir / "sigma_failed_logins_correlation_1.sql").read_text()
    assert "minutes=15, at_least=3" in logins
    # correlated base rules are building blocks, not detections of their own
    assert not (sigma_dir / "sigma_many_regions_api_calls.sql").exists()
    models = _sigma_models(imported["project"])
    assert models["sigma_failed_logins_correlation_1"]["meta"]["severity"] == "high"
    # their generated tests (N events fire, N-1 do not) ran and passed in the build
    for name in ("sigma_burst_of_describe_calls", "sigma_many_regions_1",
                 "sigma_failed_logins_correlation_1"):  # fmt: skip
        assert models[name]["tests"] == [f"{name}__fires", f"{name}__ignores"]


@pytest.mark.e2e
def test_uncompilable_rules_are_reported_and_write_nothing(imported: dict) -> None:
    output = " ".join(imported["output"].split())
    sigma_dir = imported["project"] / "models" / "detections" / "sigma"
    for name, reason in REFUSED.items():
        assert reason in output, (name, output[-3000:])
        assert not list(sigma_dir.glob(f"sigma_{Path(name).stem}*")), name


# -- re-import, drift, update, prune -------------------------------------------------------------


def _bare_project(root: Path) -> Path:
    (root / "models" / "detections").mkdir(parents=True)
    (root / "macros").mkdir()
    return root


def test_reimport_is_idempotent_and_check_reports_drift(tmp_path: Path) -> None:
    project = _bare_project(tmp_path / "project")
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("aws_cloudtrail_disable_logging.yml", "aws_enum_buckets.yml"):
        shutil.copy(SIGMA_FIXTURES / name, rules / name)
    assert sigma_import(str(rules), "--project", str(project))[0] == 0
    written = {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()}
    assert len([p for p in written if p.suffix == ".sql" and p.parent.name == "sigma"]) == 2

    code, output = sigma_import(str(rules), "--project", str(project))
    assert code == 0 and "2 unchanged" in output
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()} == written
    assert sigma_import(str(rules), "--check", "--project", str(project))[0] == 0

    # a changed rule: --check reports it and writes nothing; import updates the model
    rule = rules / "aws_cloudtrail_disable_logging.yml"
    rule.write_text(
        rule.read_text().replace("- DeleteTrail", "- DeleteTrail\n            - PutEventSelectors")
    )
    model = project / "models/detections/sigma/sigma_aws_cloudtrail_disable_logging.sql"
    before = model.read_text()
    code, output = sigma_import(str(rules), "--check", "--project", str(project))
    assert code == 1 and "differ" in output
    assert model.read_text() == before
    code, output = sigma_import(str(rules), "--project", str(project))
    assert code == 0 and "1 changed" in output
    assert "PutEventSelectors" in model.read_text()

    # a removed rule stays until --prune; the list `alerts` reads follows
    (rules / "aws_enum_buckets.yml").unlink()
    sigma_import(str(rules), "--project", str(project))
    assert (project / "models/detections/sigma/sigma_aws_enum_buckets.sql").exists()
    sigma_import(str(rules), "--prune", "--project", str(project))
    assert not (project / "models/detections/sigma/sigma_aws_enum_buckets.sql").exists()
    macro = (project / "macros/detection_models.sql").read_text()
    assert "sigma_aws_cloudtrail_disable_logging" in macro and "enum_buckets" not in macro
    # the catalog counts the imported detections
    assert "sigma" in (project / "detections" / "COVERAGE.md").read_text()


def test_a_rule_that_fails_writes_nothing_and_keeps_its_old_model(tmp_path: Path) -> None:
    project = _bare_project(tmp_path / "project")
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = rules / "aws_enum_buckets.yml"
    shutil.copy(SIGMA_FIXTURES / rule.name, rule)
    sigma_import(str(rules), "--project", str(project))
    model = project / "models/detections/sigma/sigma_aws_enum_buckets.sql"
    before = model.read_text()
    rule.write_text(
        rule.read_text().replace("condition: selection", "condition: selection and nope")
    )
    code, output = sigma_import(str(rules), "--project", str(project))
    assert code == 0 and "not compiled" in output
    assert model.read_text() == before


def test_repository_ships_no_third_party_rules() -> None:
    """The SigmaHQ rules are test inputs only: nothing imported is committed."""
    from conftest import PROJECT_ROOT

    assert not list((PROJECT_ROOT / "models" / "detections").glob("sigma/*.sql"))
    assert "sigma_" not in (PROJECT_ROOT / "macros" / "detection_models.sql").read_text()
