"""Benign operations that look like attacks, for the demo: the noise a detection library must
stay quiet on. Each day of the demo gets an infrastructure-as-code apply (and, every other day,
a destroy), an SSO administrator provisioning a service user, a CI role deploying a Lambda
function and reading its secrets, a read-only security audit sweeping every region, and AWS
services acting for the account (Auto Scaling, AWS Backup). Their labels go to
`_sources/demo/benign.json`, beside the attacks' `scenarios.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.sources.demo_catalog import (
    CI_IPS,
    CONSOLE_UA,
    GLOBAL_REGION,
    OFFICE_IPS,
    REGIONS,
    TERRAFORM_UA,
    Account,
    Actor,
)

if TYPE_CHECKING:
    from ingest.sources.demo import Generator

BENIGN_FILE = "benign.json"

GITHUB_UA = (
    "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard"
)
AUDIT_UA = (
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219 md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.144"
)
GLOBAL_SOURCES = {"iam.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com"}

Records = list[dict]
Call = Callable[..., dict]


def episodes(gen: Generator) -> list[tuple[dict, Records]]:
    """Every benign episode of the demo, labelled, in time order per day."""
    result: list[tuple[dict, Records]] = []
    prod = gen.accounts[0]
    for day in range(gen.spec.days):
        start = gen.spec.start_at + timedelta(days=day)
        for name, build, hour in (
            ("security-audit-scan", _audit_scan, 3),
            ("iac-apply", _iac_apply, 10),
            ("ci-lambda-deploy", _lambda_deploy, 13),
            ("sso-admin-provisions-service-user", _provision_user, 15),
            ("aws-services-acting", _services_acting, 20),
        ):
            when = start + timedelta(hours=hour, minutes=gen.rng.uniform(0, 40))
            records = build(gen, prod, when, day)
            result.append((_label(name, prod, records), records))
        if day % 2 == 1:
            when = start + timedelta(hours=17, minutes=gen.rng.uniform(0, 40))
            records = _iac_destroy(gen, prod, when, day)
            result.append((_label("iac-destroy", prod, records), records))
    return result


def write_labels(directory: Path, labelled: list[tuple[dict, Records]]) -> None:
    (directory / BENIGN_FILE).write_text(json.dumps([m for m, _ in labelled], indent=2) + "\n")


def _label(name: str, account: Account, records: Records) -> dict:
    return {
        "episode": name,
        "account_id": account.id,
        "event_ids": [r["eventID"] for r in records],
    }


def _caller(
    gen: Generator,
    account: Account,
    identity: dict,
    when: datetime,
    *,
    ip: str,
    user_agent: str,
    region: str = REGIONS[0],
    spacing: tuple[float, float] = (1, 8),
) -> Call:
    """A function making one API call as `identity`, a few seconds after the previous one."""
    clock = [when]

    def call(source: str, name: str, request: dict | None = None, **kw) -> dict:
        clock[0] += timedelta(seconds=gen.rng.uniform(*spacing))
        reg = kw.pop("region", GLOBAL_REGION if source in GLOBAL_SOURCES else region)
        return gen.record(
            clock[0],
            account,
            reg,
            identity,
            source,
            name,
            read_only=kw.pop("read_only", False),
            ip=ip,
            user_agent=user_agent,
            request=request,
            **kw,
        )

    return call


def _role(gen: Generator, account: Account, role: str, session: str, when: datetime) -> dict:
    return gen.identity(Actor("AssumedRole", role, session=session), account, when)


def _iac_apply(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """Terraform (the CI user) creating a service: role, policies, bucket, network, function."""
    deployer = next(a for a in gen.cast[account.id] if a.name == "ci-deployer")
    call = _caller(
        gen, account, gen.identity(deployer, account, when), when,
        ip=CI_IPS[0], user_agent=TERRAFORM_UA,
    )  # fmt: skip
    stack = f"reports-{day}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{stack}-data", f"arn:aws:s3:::{stack}-data/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "OrganizationRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{stack}-data/*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            },
        ],
    }
    inline = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{stack}-data/*",
            }
        ],
    }
    role_arn = f"arn:aws:iam::{account.id}:role/{stack}-lambda"
    return [
        call("iam.amazonaws.com", "CreateRole", {
            "roleName": f"{stack}-lambda", "path": "/",
            "assumeRolePolicyDocument": json.dumps(trust),
        }),
        call("iam.amazonaws.com", "AttachRolePolicy", {
            "roleName": f"{stack}-lambda",
            "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        }),
        call("iam.amazonaws.com", "PutRolePolicy", {
            "roleName": f"{stack}-lambda", "policyName": "data-access",
            "policyDocument": json.dumps(inline),
        }),
        call("s3.amazonaws.com", "CreateBucket", {
            "bucketName": f"{stack}-data", "Host": f"{stack}-data.s3.amazonaws.com",
        }),
        call("s3.amazonaws.com", "PutBucketVersioning", {
            "bucketName": f"{stack}-data",
            "VersioningConfiguration": {"Status": "Enabled"},
        }),
        call("s3.amazonaws.com", "PutBucketPolicy", {
            "bucketName": f"{stack}-data", "bucketPolicy": bucket_policy,
        }),
        call("ec2.amazonaws.com", "CreateSecurityGroup", {
            "groupName": f"{stack}-lambda", "groupDescription": "reports lambda",
            "vpcId": "vpc-0a1b2c3d4e5f60718",
        }),
        call("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", {
            "groupId": "sg-0a1b2c3d4e5f60718",
            "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]},
            }]},
        }),
        call("logs.amazonaws.com", "CreateLogGroup", {
            "logGroupName": f"/aws/lambda/{stack}",
        }),
        call("logs.amazonaws.com", "PutRetentionPolicy", {
            "logGroupName": f"/aws/lambda/{stack}", "retentionInDays": 90,
        }),
        call("lambda.amazonaws.com", "CreateFunction20150331", {
            "functionName": stack, "runtime": "python3.12", "role": role_arn,
            "handler": "app.handler", "timeout": 30, "memorySize": 256,
        }),
        call("lambda.amazonaws.com", "AddPermission20150331v2", {
            "functionName": stack, "statementId": "apigateway",
            "action": "lambda:InvokeFunction", "principal": "apigateway.amazonaws.com",
            "sourceArn": f"arn:aws:execute-api:{REGIONS[0]}:{account.id}:a1b2c3d4e5/*",
        }),
        call("ec2.amazonaws.com", "RunInstances", {
            "instancesSet": {"items": [{"imageId": "ami-0a1b2c3d4e5f60718",
                                        "minCount": 2, "maxCount": 2}]},
            "instanceType": "t3.small",
            "iamInstanceProfile": {"name": f"{stack}-worker"},
        }),
    ]  # fmt: skip


def _iac_destroy(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """Terraform destroying the previous day's stack: a burst of deletions by automation."""
    deployer = next(a for a in gen.cast[account.id] if a.name == "ci-deployer")
    call = _caller(
        gen, account, gen.identity(deployer, account, when), when,
        ip=CI_IPS[1], user_agent=TERRAFORM_UA,
    )  # fmt: skip
    stack = f"reports-{day - 1}"
    return [
        call("lambda.amazonaws.com", "DeleteFunction20150331", {"functionName": stack}),
        call("ec2.amazonaws.com", "TerminateInstances", {
            "instancesSet": {"items": [{"instanceId": f"i-0{day:02d}a1b2c3d4e5f6071"},
                                       {"instanceId": f"i-0{day:02d}a1b2c3d4e5f6072"}]},
        }),
        call("logs.amazonaws.com", "DeleteLogGroup", {"logGroupName": f"/aws/lambda/{stack}"}),
        call("ec2.amazonaws.com", "DeleteSecurityGroup", {"groupId": "sg-0a1b2c3d4e5f60718"}),
        call("s3.amazonaws.com", "DeleteBucketPolicy", {"bucketName": f"{stack}-data"}),
        call("s3.amazonaws.com", "DeleteBucket", {"bucketName": f"{stack}-data"}),
        call("iam.amazonaws.com", "DeleteRolePolicy", {
            "roleName": f"{stack}-lambda", "policyName": "data-access",
        }),
        call("iam.amazonaws.com", "DetachRolePolicy", {
            "roleName": f"{stack}-lambda",
            "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        }),
        call("iam.amazonaws.com", "DeleteRole", {"roleName": f"{stack}-lambda"}),
    ]  # fmt: skip


def _lambda_deploy(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """A GitHub Actions role deploying a function and reading the secrets it needs."""
    identity = _role(gen, account, "github-actions-deploy", "GitHubActions", when)
    call = _caller(gen, account, identity, when, ip=CI_IPS[2], user_agent=GITHUB_UA)
    function = "orders-processor"
    return [
        call("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "ci/deploy-token"},
             read_only=True),
        call("ssm.amazonaws.com", "GetParameter",
             {"name": "/orders/config/queue-url", "withDecryption": False}, read_only=True),
        call("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {
            "functionName": function, "s3Bucket": "artifacts-ci",
            "s3Key": f"orders/{day}/bundle.zip", "publish": False,
        }),
        call("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {
            "functionName": function, "environment": {"variables": "***"},
        }),
        call("lambda.amazonaws.com", "PublishVersion20150331", {"functionName": function}),
        call("lambda.amazonaws.com", "UpdateAlias20150331", {
            "functionName": function, "name": "live", "functionVersion": str(day + 1),
        }),
    ]  # fmt: skip


def _provision_user(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """An SSO administrator in the console creating a read-only service user and its key."""
    identity = _role(
        gen, account, "AWSReservedSSO_AdministratorAccess_6f1c2d3e4b5a6978", "erin@example.com",
        when,
    )  # fmt: skip
    call = _caller(
        gen, account, identity, when, ip=OFFICE_IPS[0], user_agent=CONSOLE_UA,
        spacing=(8, 40),
    )  # fmt: skip
    user = f"svc-reporting-{day}"
    return [
        call("iam.amazonaws.com", "CreateUser", {"userName": user, "path": "/service/"}),
        call("iam.amazonaws.com", "AttachUserPolicy", {
            "userName": user, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        }),
        call("iam.amazonaws.com", "CreateAccessKey", {"userName": user}),
        call("iam.amazonaws.com", "TagUser", {
            "userName": user, "tags": [{"key": "owner", "value": "data-team"}],
        }),
    ]  # fmt: skip


# What a read-only auditing tool (Prowler, ScoutSuite, Steampipe) reads in each region.
AUDIT_REGIONAL = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("ec2.amazonaws.com", "DescribeVpcs"),
    ("ec2.amazonaws.com", "DescribeFlowLogs"),
    ("ec2.amazonaws.com", "DescribeSnapshots"),
    ("ec2.amazonaws.com", "GetEbsEncryptionByDefault"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
    ("cloudtrail.amazonaws.com", "DescribeTrails"),
    ("config.amazonaws.com", "DescribeConfigurationRecorders"),
    ("guardduty.amazonaws.com", "ListDetectors"),
    ("kms.amazonaws.com", "ListKeys"),
    ("secretsmanager.amazonaws.com", "ListSecrets"),
    ("rds.amazonaws.com", "DescribeDBInstances"),
    ("securityhub.amazonaws.com", "DescribeHub"),
)
AUDIT_GLOBAL = (
    ("iam.amazonaws.com", "GetAccountPasswordPolicy", None),
    ("iam.amazonaws.com", "GetAccountSummary", None),
    ("iam.amazonaws.com", "GenerateCredentialReport", None),
    ("iam.amazonaws.com", "GetCredentialReport", None),
    ("iam.amazonaws.com", "GetAccountAuthorizationDetails", None),
    ("iam.amazonaws.com", "ListUsers", None),
    ("iam.amazonaws.com", "ListRoles", None),
    ("iam.amazonaws.com", "ListPolicies", None),
    ("s3.amazonaws.com", "ListBuckets", None),
)
AUDIT_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1")


def _audit_scan(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """A nightly read-only security audit: every region, IAM and the buckets' settings."""
    identity = _role(gen, account, "security-audit", f"prowler-{day}", when)
    call = _caller(
        gen, account, identity, when, ip="3.120.181.42", user_agent=AUDIT_UA, spacing=(0.2, 2)
    )
    records = [call(s, n, r, read_only=True) for s, n, r in AUDIT_GLOBAL]
    for region in AUDIT_REGIONS:
        records += [call(s, n, read_only=True, region=region) for s, n in AUDIT_REGIONAL]
    for index in range(12):
        bucket = f"{account.name}-bucket-{index:02d}"
        for name in ("GetBucketAcl", "GetBucketPolicy", "GetBucketEncryption",
                     "GetBucketPublicAccessBlock", "GetBucketLogging"):  # fmt: skip
            error = (
                ("NoSuchBucketPolicy", "The bucket policy does not exist")
                if (name == "GetBucketPolicy" and index % 3)
                else None
            )
            records.append(call("s3.amazonaws.com", name, {"bucketName": bucket},
                                read_only=True, error=error))  # fmt: skip
    return records


def _services_acting(gen: Generator, account: Account, when: datetime, day: int) -> Records:
    """AWS services on the account's behalf: Auto Scaling replacing instances, AWS Backup
    expiring its recovery points."""
    scaling = _role(gen, account, "AWSServiceRoleForAutoScaling", "AutoScaling", when)
    scaling["invokedBy"] = "autoscaling.amazonaws.com"
    scale = _caller(
        gen, account, scaling, when,
        ip="autoscaling.amazonaws.com", user_agent="autoscaling.amazonaws.com",
    )  # fmt: skip
    records = [
        scale("ec2.amazonaws.com", "RunInstances", {
            "instancesSet": {"items": [{"imageId": "ami-0a1b2c3d4e5f60718",
                                        "minCount": 1, "maxCount": 1}]},
            "instanceType": "m5.large",
            "launchTemplate": {"launchTemplateId": "lt-0a1b2c3d4e5f60718", "version": "3"},
        }),
        scale("ec2.amazonaws.com", "TerminateInstances", {
            "instancesSet": {"items": [{"instanceId": f"i-0{day:02d}b1b2c3d4e5f6071"}]},
        }),
    ]  # fmt: skip
    backup = _role(gen, account, "AWSServiceRoleForBackup", "AWSBackup-Session", when)
    backup["invokedBy"] = "backup.amazonaws.com"
    expire = _caller(
        gen, account, backup, when + timedelta(minutes=5),
        ip="backup.amazonaws.com", user_agent="backup.amazonaws.com",
    )  # fmt: skip
    records += [
        expire("ec2.amazonaws.com", "DeleteSnapshot",
               {"snapshotId": f"snap-0{day:02d}{index:02d}a1b2c3d4e5f60"})
        for index in range(12)
    ]  # fmt: skip
    records.append(
        expire("backup.amazonaws.com", "DeleteRecoveryPoint", {
            "backupVaultName": "Default",
            "recoveryPointArn": f"arn:aws:ec2:{REGIONS[0]}::snapshot/snap-0{day:02d}00a1b2c3d4e5f6",
        })
    )  # fmt: skip
    return records
