"""macros/policies.sql: policy documents read statement by statement. The macros' compiled SQL
runs in DuckDB over policies shaped as CloudTrail records them (a JSON string, one statement or a
list, one principal or a list), each case with the answer a reader of the policy gives."""

from __future__ import annotations

import json

import duckdb
import pytest

from conftest import Workspace, compile_inline

OURS = "111122223333"
SISTER = "444455556666"  # another account of ours (the inventory's)
FOREIGN = "999988887777"

PROBE = """
select
    {{ policy_allows_anyone('policy') }} as anyone,
    {{ list_sort_distinct(foreign_accounts(policy_granted_accounts('policy'), "'"
        ~ '111122223333' ~ "'", list_of(["'444455556666'"]))) }} as foreign_accounts,
    {{ policy_grants_admin('policy') }} as admin
from cases
"""


def statement(**fields: object) -> dict:
    """An Allow statement on every resource unless `fields` say otherwise (None drops a key)."""
    merged = {"Effect": "Allow", "Resource": "*", **fields}
    return {key: value for key, value in merged.items() if value is not None}


def policy(*statements: dict, single: bool = False) -> str:
    body = statements[0] if single else list(statements)
    return json.dumps({"Version": "2012-10-17", "Statement": body})


# (policy, anyone?, foreign accounts granted, admin?)
CASES = {
    "anyone, one statement not in a list": (
        policy(statement(Principal="*", Action="s3:GetObject"), single=True), True, [], False
    ),
    "anyone as {AWS: *} in a list": (
        policy(statement(Principal={"AWS": ["*"]}, Action=["s3:GetObject"])), True, [], False
    ),
    "anyone but a Deny": (
        policy(statement(Effect="Deny", Principal="*", Action="*")), False, [], False
    ),
    "anyone confined to our organization": (
        policy(
            statement(
                Principal="*",
                Action="s3:GetObject",
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            )
        ),
        False, [], False,
    ),
    "anyone through one VPC endpoint": (
        policy(
            statement(
                Principal={"AWS": "*"},
                Action="s3:*",
                Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            )
        ),
        False, [], False,
    ),
    "a condition letting every organization or address through confines nothing": (
        policy(
            statement(
                Principal="*",
                Action="s3:GetObject",
                Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}},
            ),
            statement(
                Principal={"AWS": "*"},
                Action="s3:ListBucket",
                Condition={"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}},
            ),
        ),
        True, [], False,
    ),
    "a foreign account under a wildcard organization condition is still granted": (
        policy(
            statement(
                Principal={"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                Action="s3:GetObject",
                Condition={"StringLike": {"aws:PrincipalOrgID": "*"}},
            )
        ),
        False, [FOREIGN], False,
    ),
    "anyone with only a transport condition is still anyone": (
        policy(
            statement(
                Principal="*",
                Action="s3:GetObject",
                Condition={"Bool": {"aws:SecureTransport": "true"}},
            )
        ),
        True, [], False,
    ),
    "an external id does not confine who": (
        policy(
            statement(
                Principal={"AWS": "*"},
                Action="sts:AssumeRole",
                Condition={"StringEquals": {"sts:ExternalId": "shared"}},
            )
        ),
        True, [], False,
    ),
    "NotPrincipal with Allow is everyone else": (
        policy(statement(NotPrincipal={"AWS": f"arn:aws:iam::{OURS}:root"}, Action="s3:*")),
        True, [], False,
    ),
    "a foreign account as a root ARN, without a star": (
        policy(statement(Principal={"AWS": f"arn:aws:iam::{FOREIGN}:root"}, Action="s3:GetObject")),
        False, [FOREIGN], False,
    ),
    "a foreign role, a bare id, ours and a sister account": (
        policy(
            statement(
                Principal={
                    "AWS": [
                        f"arn:aws:iam::{OURS}:role/app",
                        f"arn:aws:iam::{SISTER}:role/ci",
                        "123412341234",
                        f"arn:aws:sts::{FOREIGN}:assumed-role/x/y",
                    ]
                },
                Action="kms:Decrypt",
            )
        ),
        False, ["123412341234", FOREIGN], False,
    ),
    "a foreign account in a Deny is no grant": (
        policy(statement(Effect="Deny", Principal={"AWS": f"arn:aws:iam::{FOREIGN}:"}, Action="*")),
        False, [], False,
    ),
    "a foreign account confined to our organization is ours": (
        policy(
            statement(
                Principal={"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                Action="s3:GetObject",
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            )
        ),
        False, [], False,
    ),
    "a service for a foreign source account": (
        policy(
            statement(
                Principal={"Service": "sns.amazonaws.com"},
                Action="sqs:SendMessage",
                Condition={"StringEquals": {"aws:SourceAccount": FOREIGN}},
            )
        ),
        False, [FOREIGN], False,
    ),
    "a condition's account narrows our own principal, grants nothing": (
        policy(
            statement(
                Principal={"AWS": f"arn:aws:iam::{OURS}:role/app"},
                Action="secretsmanager:GetSecretValue",
                Condition={"StringEquals": {"aws:SourceAccount": FOREIGN}},
            )
        ),
        False, [], False,
    ),
    "anyone from a foreign caller account": (
        policy(
            statement(
                Principal={"AWS": "*"},
                Action="kms:Decrypt",
                Condition={"StringEquals": {"kms:CallerAccount": FOREIGN}},
            )
        ),
        False, [FOREIGN], False,
    ),
    "ELB log delivery is not a grant to a stranger": (
        policy(statement(Principal={"AWS": "arn:aws:iam::127311923021:root"}, Action="s3:*")),
        False, [], False,
    ),
    "admin: every action on everything": (policy(statement(Action="*")), False, [], True),
    "admin: *:* in a list beside others": (
        policy(statement(Action=["s3:GetObject", "*:*"], Resource=["*"])), False, [], True
    ),
    "admin: NotAction allows everything else": (
        policy(statement(NotAction=["iam:*"])), False, [], True
    ),
    "not admin: every action on one bucket": (
        policy(statement(Action="*", Resource="arn:aws:s3:::logs/*")), False, [], False
    ),
    "not admin: a Deny of everything": (
        policy(statement(Effect="Deny", Action="*")), False, [], False
    ),
    "admin although a condition says from where: it narrows when, not who": (
        policy(statement(Action="*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
        False, [], True,
    ),
    "admin: every action on all but a NotResource": (
        policy(statement(Action="*", Resource=None, NotResource="arn:aws:s3:::x")),
        False, [], True,
    ),
    "admin: arn:* is every resource": (
        policy(statement(Action="*", Resource="arn:*")), False, [], True
    ),
    "admin: iam:* on everything grants the rest": (
        policy(statement(Action=["iam:*"])), False, [], True
    ),
    "not admin: all of S3": (policy(statement(Action="s3:*")), False, [], False),
    "admin in the second statement": (
        policy(statement(Action="s3:GetObject"), statement(Action="*")), False, [], True
    ),
    "anyone outside our organization (a Not operator) is anyone": (
        policy(
            statement(
                Principal="*",
                Action="s3:GetObject",
                Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            )
        ),
        True, [], False,
    ),
    "IfExists, Null, Bool and ForAllValues let requests without the key through": (
        policy(
            statement(
                Principal="*", Action="s3:GetObject",
                Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
            ),
            statement(
                Principal="*", Action="s3:GetObject",
                Condition={"Null": {"aws:SourceIp": "false"}},
            ),
            statement(
                Principal="*", Action="s3:GetObject",
                Condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
            ),
        ),
        True, [], False,
    ),
    "wildcard values confine nothing": (
        policy(
            statement(
                Principal="*", Action="s3:GetObject",
                Condition={"StringLike": {"aws:PrincipalOrgID": "o-?*"}},
            ),
            statement(
                Principal="*", Action="s3:GetObject",
                Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}},
            ),
        ),
        True, [], False,
    ),
    "an organization path with a trailing /* confines; another key's * does not matter": (
        policy(
            statement(
                Principal="*", Action="s3:ListBucket",
                Condition={
                    "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/*"]},
                    "StringLike": {"s3:prefix": "*"},
                },
            )
        ),
        False, [], False,
    ),
    "our resource's organization is no confinement of who": (
        policy(
            statement(
                Principal={"AWS": f"arn:aws:iam::{FOREIGN}:root"}, Action="s3:GetObject",
                Condition={"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
            )
        ),
        False, [FOREIGN], False,
    ),
    "a bare string or broken JSON as a statement is no statement (and no crash)": (
        json.dumps({"Version": "2012-10-17", "Statement": ["x", "{not json", 7, None]}),
        False, [], False,
    ),
    "no policy at all": (None, False, [], False),
    "not JSON": ("{not json", False, [], False),
}  # fmt: skip


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    sql = compile_inline(Workspace.create(tmp_path_factory.mktemp("policies")), PROBE)
    con = duckdb.connect()
    results = {}
    for name, (value, *_) in CASES.items():
        con.execute("create or replace temp table cases as select ?::varchar as policy", [value])
        results[name] = con.execute(sql).fetchone()
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_a_policy_is_read_statement_by_statement(name: str, answers: dict[str, tuple]) -> None:
    _, anyone, foreign, admin = CASES[name]
    got_anyone, got_foreign, got_admin = answers[name]
    assert got_anyone is anyone
    assert (got_foreign or []) == sorted(foreign)
    assert got_admin is admin
