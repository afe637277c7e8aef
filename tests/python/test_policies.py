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
CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
OAI = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"
GITHUB = f"arn:aws:iam::{OURS}:oidc-provider/token.actions.githubusercontent.com"

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
    "a principal in any account (a wildcard account in the ARN) is anyone": (
        policy(
            statement(Principal={"AWS": "arn:aws:iam::*:root"}, Action="s3:GetObject"),
            statement(Principal={"AWS": ["arn:aws:iam::*:role/x"]}, Action="kms:Decrypt"),
        ),
        True, [], False,
    ),
    "a partly wildcard account or an STS ARN in any account is anyone": (
        policy(
            statement(
                Principal={
                    "AWS": ["arn:aws:iam::99998888777?:root", "arn:aws:sts::*:assumed-role/a/b"]
                },
                Action="sts:AssumeRole",
            )
        ),
        True, [], False,
    ),
    "a wildcard after a named account is that account only": (
        policy(
            statement(Principal={"AWS": f"arn:aws:iam::{FOREIGN}:role/*"}, Action="s3:GetObject")
        ),
        False, [FOREIGN], False,
    ),
    "a wildcard account confined to our organization is not anyone": (
        policy(
            statement(
                Principal={"AWS": "arn:aws:iam::*:root"},
                Action="s3:GetObject",
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            )
        ),
        False, [], False,
    ),
    "a canonical user cannot be told to be ours: foreign": (
        policy(statement(Principal={"CanonicalUser": CANONICAL}, Action="s3:GetObject")),
        False, [f"CanonicalUser:{CANONICAL}"], False,
    ),
    "a canonical user beside our own account is still granted; a condition's account is not read": (
        policy(
            statement(
                Principal={"CanonicalUser": [CANONICAL], "AWS": f"arn:aws:iam::{OURS}:root"},
                Action="s3:GetObject",
                Condition={"StringEquals": {"aws:SourceAccount": OURS}},
            )
        ),
        False, [f"CanonicalUser:{CANONICAL}"], False,
    ),
    "a CloudFront origin access identity (the ARN S3 rewrites a canonical user to) is foreign": (
        policy(statement(Principal={"AWS": OAI}, Action="s3:GetObject")),
        False, [OAI], False,
    ),
    "a canonical user confined to our organization or denied is no grant": (
        policy(
            statement(
                Principal={"CanonicalUser": CANONICAL},
                Action="s3:GetObject",
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            ),
            statement(Effect="Deny", Principal={"CanonicalUser": CANONICAL}, Action="s3:*"),
        ),
        False, [], False,
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


FEDERATED_PROBE = """
select {{ policy_trusts_any_federated_identity('policy') }} as any_federated from cases
"""


def web_identity(provider: str, condition: dict | None = None, **fields: object) -> dict:
    """A trust statement for `provider` (a Federated principal) for AssumeRoleWithWebIdentity."""
    return statement(
        Principal={"Federated": provider},
        Action="sts:AssumeRoleWithWebIdentity",
        Resource=None,
        Condition=condition,
        **fields,
    )


GITHUB_AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
GITHUB_SUB = "token.actions.githubusercontent.com:sub"
COGNITO = "cognito-identity.amazonaws.com"
POOL = "us-east-1:12345678-1234-1234-1234-123456789012"
EKS = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
GOOGLE_CLIENT = "123456789012-abc.apps.googleusercontent.com"

# (trust policy, open to any identity of a federated provider?)
FEDERATED_CASES = {
    "GitHub without a condition": (policy(web_identity(GITHUB), single=True), True),
    "GitHub with only the audience: every repository's token carries it": (
        policy(web_identity(GITHUB, {"StringEquals": GITHUB_AUD})), True
    ),
    "GitHub confined to one repository": (
        policy(
            web_identity(
                GITHUB,
                {
                    "StringEquals": GITHUB_AUD,
                    "StringLike": {GITHUB_SUB: "repo:octo-org/octo-repo:*"},
                },
            )
        ),
        False,
    ),
    "GitHub confined to an organization or an exact ref": (
        policy(
            web_identity(
                GITHUB,
                {
                    "StringLike": {
                        GITHUB_SUB: ["repo:octo-org/*", "repo:octo-org/app:ref:refs/heads/main"]
                    }
                },
            )
        ),
        False,
    ),
    "GitHub with a subject any owner matches": (
        policy(
            web_identity(GITHUB, {"StringLike": {GITHUB_SUB: "repo:*"}}),
            web_identity(GITHUB, {"StringLike": {GITHUB_SUB: "*"}}),
        ),
        True,
    ),
    "GitHub with an owner prefix anyone can register (repo:octo-org*)": (
        policy(web_identity(GITHUB, {"StringLike": {GITHUB_SUB: "repo:octo-org*"}})), True
    ),
    "GitHub with one pinned subject among open ones in a list": (
        policy(
            web_identity(GITHUB, {"StringLike": {GITHUB_SUB: ["repo:octo-org/app:*", "repo:*"]}})
        ),
        True,
    ),
    "GitHub under a Not operator or IfExists: every other repository passes": (
        policy(
            web_identity(GITHUB, {"StringNotLike": {GITHUB_SUB: "repo:evil/*"}}),
            web_identity(GITHUB, {"StringLikeIfExists": {GITHUB_SUB: "repo:octo-org/*"}}),
        ),
        True,
    ),
    "GitHub with a network condition still lets any repository in": (
        policy(web_identity(GITHUB, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), True
    ),
    "GitHub in a Deny, or for another action only": (
        policy(
            web_identity(GITHUB, Effect="Deny"),
            statement(Principal={"Federated": GITHUB}, Action="sts:TagSession", Resource=None),
        ),
        False,
    ),
    "a wildcard action covers web identity": (
        policy(
            statement(
                Principal={"Federated": [GITHUB]}, Action=["sts:AssumeRoleWith*"], Resource=None
            ),
        ),
        True,
    ),
    "a NotAction that names web identity does not allow it": (
        policy(
            statement(
                Principal={"Federated": GITHUB},
                NotAction="sts:AssumeRoleWithWebIdentity",
                Resource=None,
            ),
        ),
        False,
    ),
    "a NotAction naming something else allows web identity": (
        policy(statement(Principal={"Federated": GITHUB}, NotAction="iam:*", Resource=None)),
        True,
    ),
    "Cognito without the identity pool: any pool in any account": (
        policy(
            web_identity(COGNITO, {"ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}})
        ),
        True,
    ),
    "Cognito confined to our identity pool": (
        policy(
            web_identity(
                COGNITO,
                {
                    "StringEquals": {f"{COGNITO}:aud": POOL},
                    "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"},
                },
            )
        ),
        False,
    ),
    "Cognito with a wildcard pool": (
        policy(web_identity(COGNITO, {"StringLike": {f"{COGNITO}:aud": "us-east-1:*"}})), True
    ),
    "an EKS cluster's provider confined to a service account": (
        policy(
            web_identity(
                f"arn:aws:iam::{OURS}:oidc-provider/{EKS}",
                {
                    "StringEquals": {
                        f"{EKS}:sub": "system:serviceaccount:app:reader",
                        f"{EKS}:aud": "sts.amazonaws.com",
                    }
                },
            )
        ),
        False,
    ),
    "Google confined to our client id": (
        policy(
            web_identity(
                "accounts.google.com", {"StringEquals": {"accounts.google.com:aud": GOOGLE_CLIENT}}
            )
        ),
        False,
    ),
    "a SAML provider is the account's own identity provider": (
        policy(
            statement(
                Principal={"Federated": f"arn:aws:iam::{OURS}:saml-provider/okta"},
                Action="sts:AssumeRoleWithSAML", Resource=None,
            )
        ),
        False,
    ),
    "an AWS principal is not federated": (
        policy(statement(Principal={"AWS": "*"}, Action="sts:AssumeRole", Resource=None)), False
    ),
    "no policy, not JSON": (None, False),
}  # fmt: skip


@pytest.fixture(scope="module")
def federated_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    sql = compile_inline(Workspace.create(tmp_path_factory.mktemp("federated")), FEDERATED_PROBE)
    con = duckdb.connect()
    results = {}
    for name, (value, _) in FEDERATED_CASES.items():
        con.execute("create or replace temp table cases as select ?::varchar as policy", [value])
        results[name] = con.execute(sql).fetchone()[0]
    return results


@pytest.mark.parametrize("name", list(FEDERATED_CASES))
def test_a_trust_open_to_any_federated_identity(
    name: str, federated_answers: dict[str, bool]
) -> None:
    assert federated_answers[name] is FEDERATED_CASES[name][1]
