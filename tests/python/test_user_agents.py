"""The user agent patterns of seeds/automation_user_agents.csv and seeds/suspicious_user_agents.csv,
row by row: the SQL dbt compiles `user_agent_matches()` (macros/user_agents.sql) to runs in DuckDB
over real user agents of each tool, in the shapes CloudTrail records (upper case, doubled spaces,
tabs, the brackets of S3 data events), and over near misses that must match no row of the seed.

The rows are read from the CSVs when the tests are collected: a new row gets its test, which fails
until EXAMPLES holds a real user agent of it."""

from __future__ import annotations

import csv

import duckdb
import pytest

from conftest import PROJECT_ROOT, Workspace, compile_inline

SEEDS = PROJECT_ROOT / "seeds"

BOTO3 = (
    "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.34"
)
GO_V2 = "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64"
S3_CONSOLE = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 "
    "Linux/5.10.223-190.873.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 "
    "vendor/Oracle_Corporation cfg/retry-mode/standard]"
)

# (seed, pattern) -> (real user agents the row must match, near misses no row may match)
EXAMPLES: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("automation_user_agents", "* terraform/*"): (
        [
            "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 (+https://www.terraform.io) "
            "terraform-provider-aws/5.31.0 "
            f"(+https://registry.terraform.io/providers/hashicorp/aws) {GO_V2} api/iam#1.28.5",
            # provider 4.x: the SDK first, Terraform inside
            "aws-sdk-go/1.44.122 (go1.19.3; linux; amd64) APN/1.0 HashiCorp/1.0 Terraform/1.3.7 "
            "(+https://www.terraform.io) terraform-provider-aws/4.48.0 "
            "(+https://registry.terraform.io/providers/hashicorp/aws)",
        ],
        # a product whose name merely ends in terraform
        [f"python-terraform/0.10.1 {BOTO3}", "terraformer/0.8.24 " + GO_V2],
    ),
    ("automation_user_agents", "* datadog-agent/*"): (
        [f"datadog-agent/7.50.3 {GO_V2} api/ec2#1.141.0"],
        [f"{BOTO3} app/datadog-agent-docs-builder"],
    ),
    ("automation_user_agents", "aws-sdk-java/*"): (
        [
            "aws-sdk-java/1.12.600 Linux/5.10.205-195.804.amzn2.x86_64 "
            "OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9 vendor/Amazon.com_Inc. "
            "cfg/retry-mode/standard",
            "aws-sdk-java/2.25.6 Linux/6.1.72-96.166.amzn2023.x86_64 "
            "OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS Java/21.0.2 vendor/Amazon.com_Inc. io/sync "
            "http/Apache cfg/retry-mode/legacy",
        ],
        # a person in the S3 console: the console's own Java SDK is not the caller's automation
        [S3_CONSOLE],
    ),
    ("suspicious_user_agents", "*pacu-session-*"): (
        [f"{BOTO3} Pacu-Session-2f1b7c3e-9a41-4c2e-8d0f-5b6a7c8d9e01"],
        [f"{BOTO3} opacus/1.4.0"],
    ),
    ("suspicious_user_agents", "*stratus-red-team_*"): (
        [
            "stratus-red-team_fb117e45-c7c5-4c7b-9fbc-b73aad12dc50",
            "Boto3/1.26.0 Python/3.9.16 Linux/5.15.0-1051-aws Botocore/1.29.0 "
            "stratus-red-team_54d79918-8729-4201-83e6-6a600173b8e3",
        ],
        [f"{GO_V2} app/stratus-redis-exporter"],
    ),
    ("suspicious_user_agents", "*-kali?-*"): (
        [
            "aws-cli/1.22.34 Python/3.10.12 Linux/5.18.0-kali5-amd64 botocore/1.23.34",
            "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#6.1.0-kali9-cloud-amd64 "
            "md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy "
            "Botocore/1.34.34",
        ],
        # the name inside an unrelated word, a host or a city
        [
            f"{GO_V2} api/s3#1.47.7 app/kalimera-sync",
            f"{BOTO3} exec-env/kalinin-batch-01",
        ],
    ),
    # two-digit kernel builds (6.11.2-kali10-amd64)
    ("suspicious_user_agents", "*-kali??-*"): (
        ["aws-cli/1.36.4 Python/3.12.8 Linux/6.11.2-kali10-amd64 botocore/1.35.63"],
        [f"{GO_V2} app/kalif-sync", f"{BOTO3} exec-env/kali-linux-tips"],
    ),
    ("suspicious_user_agents", "*.kali.*"): (
        [
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off "
            "command/sts.get-caller-identity",
        ],
        [f"{BOTO3} app/kali.linux.tips-blog"],
    ),
    ("suspicious_user_agents", "*#kali.*"): (
        [
            "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 "
            "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source "
            "md/distrib#kali.2024 md/prompt#off md/command#sts.get-caller-identity",
        ],
        [f"{BOTO3} md/app#kalico.3"],
    ),
    ("suspicious_user_agents", "*parrot?-*"): (
        ["aws-cli/1.22.34 Python/3.11.2 Linux/6.5.0-13parrot1-amd64 botocore/1.23.34"],
        [f"parroteer/2.1.0 {GO_V2}", f"{BOTO3} app/parrotfish"],
    ),
    ("suspicious_user_agents", "*.parrot.*"): (
        [
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-13parrot1-amd64 exe/x86_64.parrot.6 "
            "prompt/off command/iam.list-users",
        ],
        [f"{BOTO3} app/parrot-feeder"],
    ),
    ("suspicious_user_agents", "*#parrot.*"): (
        [
            "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-13parrot1-amd64 "
            "md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard "
            "md/installer#exe md/distrib#parrot.6 md/prompt#off md/command#s3.ls",
        ],
        [f"{BOTO3} md/app#parrotlet.2"],
    ),
    ("suspicious_user_agents", "*.pentoo.*"): (
        [
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.13-pentoo exe/x86_64.pentoo.2024 prompt/off "
            "command/ec2.describe-instances",
        ],
        [f"{BOTO3} app/pentool"],
    ),
    ("suspicious_user_agents", "*#pentoo.*"): (
        [
            "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.6.13-pentoo md/arch#x86_64 "
            "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
            "md/distrib#pentoo.2024 md/prompt#off md/command#iam.list-roles",
        ],
        [f"{BOTO3} md/app#pentool.1"],
    ),
    ("suspicious_user_agents", "*trufflehog*"): (
        # TruffleHog verifies a found key with GetCallerIdentity under its own name
        ["TruffleHog"],
        ["truffle/5.11.5 (Truffle Suite) node/18.19.0"],
    ),
    ("suspicious_user_agents", "*s3browser*"): (
        ["S3 Browser/11.5.7 (https://s3browser.com)"],
        [S3_CONSOLE],
    ),
    ("suspicious_user_agents", "*aws-cli/*python/2.*"): (
        ["aws-cli/1.16.312 Python/2.7.18 Linux/4.14.336-253.554.amzn2.x86_64 botocore/1.13.48"],
        [
            "aws-cli/1.32.0 Python/3.12.1 Linux/6.1.79-99.167.amzn2023.x86_64 botocore/1.34.0",
            "aws-cli/2.15.0 Python/3.11.6 Linux/5.15.0-91-generic exe/x86_64.ubuntu.22 prompt/off "
            "command/s3.ls",
        ],
    ),
    ("suspicious_user_agents", "*scoutsuite*"): (
        [f"{BOTO3} Scout Suite/5.14.0 (https://github.com/nccgroup/ScoutSuite)"],
        [f"{BOTO3} scout-apm/3.1.0"],
    ),
    ("suspicious_user_agents", "* scout suite/*"): (
        [f"{BOTO3} Scout   Suite/5.14.0"],
        [f"{BOTO3} BoyScout Suites/1.0"],
    ),
    ("suspicious_user_agents", "*prowler*"): (
        # Prowler sends its APN id (next row) unless PROWLER_AWS_BOTO3_USER_AGENT_EXTRA names it
        [f"{BOTO3} prowler/4.2.1"],
        [f"{BOTO3} app/howler-alerts"],
    ),
    ("suspicious_user_agents", "*apn_1826889*"): (
        # Prowler's default user_agent_extra, its AWS Partner Network id
        [f"{BOTO3} APN_1826889"],
        [
            "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) "
            "terraform-provider-aws/5.70.0",
            f"{BOTO3} APN_1.1/pc_5ugbbrmu7ud3u5hsipfzug61p",
        ],
    ),
}

# Callers every seed must leave alone: people in the console or the CLI, AWS services.
ORDINARY = [
    "console.amazonaws.com",
    "AWS Internal",
    "AWS Internal, console.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    S3_CONSOLE,
    "aws-cli/2.15.0 Python/3.11.6 Linux/5.15 exe/x86_64.ubuntu.22 prompt/off command/s3.ls",
    "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.9",
    f"{GO_V2} exec-env/AWS_ECS_FARGATE api/sts#1.26.7",
    BOTO3,
]
# What the suspicious seed must leave alone besides: everyday automation.
ORDINARY_AUTOMATION = [
    EXAMPLES[("automation_user_agents", "* terraform/*")][0][0],
    EXAMPLES[("automation_user_agents", "aws-sdk-java/*")][0][0],
]


def seed_rows(seed: str) -> list[dict[str, str]]:
    with (SEEDS / f"{seed}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


# each pattern once (an automation pattern may have a row per principal that runs it)
ROWS = list(
    dict.fromkeys(
        (seed, row["user_agent_pattern"])
        for seed in ("automation_user_agents", "suspicious_user_agents")
        for row in seed_rows(seed)
    )
)


def variants(user_agent: str) -> list[str]:
    """The user agent as sent, and as CloudTrail or another version of the tool may spell it."""
    return [
        user_agent,
        user_agent.upper(),
        user_agent.lower(),
        "  " + user_agent.replace(" ", " \t  ") + " ",
        f"[{user_agent}]",
    ]


def ordinary(seed: str) -> list[str]:
    return ORDINARY + (ORDINARY_AUTOMATION if seed == "suspicious_user_agents" else [])


PROBE = "select user_agent, pattern, {{ user_agent_matches('user_agent', 'pattern') }} from cases"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> str:
    return compile_inline(Workspace.create(tmp_path_factory.mktemp("user_agents")), PROBE)


@pytest.fixture(scope="module")
def matches(probe: str) -> dict[str, dict[str, set[str]]]:
    """seed -> user agent -> the seed's patterns it matches, for every user agent tested."""
    agents = {ua for examples, misses in EXAMPLES.values() for ua in examples + misses}
    agents |= set(ORDINARY + ORDINARY_AUTOMATION)
    agents = {variant for ua in agents for variant in variants(ua)}
    con = duckdb.connect()
    answers: dict[str, dict[str, set[str]]] = {}
    for seed in {seed for seed, _ in ROWS}:
        patterns = [row["user_agent_pattern"] for row in seed_rows(seed)]
        cases = [(ua, pattern) for ua in sorted(agents) for pattern in patterns]
        con.execute("create or replace temp table cases (user_agent varchar, pattern varchar)")
        con.executemany("insert into cases values (?, ?)", cases)
        found: dict[str, set[str]] = {ua: set() for ua in agents}
        for user_agent, pattern, matched in con.execute(probe).fetchall():
            if matched:
                found[user_agent].add(pattern)
        answers[seed] = found
    return answers


@pytest.mark.parametrize(("seed", "pattern"), ROWS, ids=[f"{s}:{p}" for s, p in ROWS])
def test_each_seed_row_matches_its_tool_and_no_near_miss(
    seed: str, pattern: str, matches: dict[str, dict[str, set[str]]]
) -> None:
    assert (seed, pattern) in EXAMPLES, f"add real user agents and near misses of {pattern!r}"
    examples, misses = EXAMPLES[(seed, pattern)]
    assert examples and misses
    for example in examples:
        for variant in variants(example):
            assert pattern in matches[seed][variant], f"{pattern!r} misses {variant!r}"
    for miss in misses:
        for variant in variants(miss):
            assert not matches[seed][variant], f"{variant!r} matched {matches[seed][variant]}"


@pytest.mark.parametrize("seed", ["automation_user_agents", "suspicious_user_agents"])
def test_ordinary_callers_match_no_row(seed: str, matches: dict[str, dict[str, set[str]]]) -> None:
    for user_agent in ordinary(seed):
        for variant in variants(user_agent):
            assert not matches[seed][variant], f"{variant!r} matched {matches[seed][variant]}"


def test_every_example_names_a_seed_row() -> None:
    """An example left behind by a removed or renamed row would test nothing."""
    assert set(EXAMPLES) <= set(ROWS)


def test_no_user_agent_matches_nothing(probe: str) -> None:
    con = duckdb.connect()
    con.execute("create temp table cases as select null::varchar as user_agent, '*' as pattern")
    assert not con.execute(probe).fetchone()[2]
