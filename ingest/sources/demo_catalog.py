"""The cast of the synthetic CloudTrail: accounts, principals, networks and the API mix.

Names and numbers are invented; IP ranges come from the documentation blocks (RFC 5737/3849)
except the attacker's, which must look like a foreign public network.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

REGIONS = ("us-east-1", "eu-west-1")
GLOBAL_REGION = "us-east-1"
ACCOUNT_NAMES = ("prod", "staging", "dev", "security", "sandbox")

OFFICE_IPS = tuple(f"203.0.113.{n}" for n in (10, 11, 12, 24, 25, 40))
VPN_IPS = tuple(f"198.51.100.{n}" for n in (5, 6, 7, 8))
CI_IPS = tuple(f"192.0.2.{n}" for n in (50, 51, 52))
HOME_IPV6 = ("2001:db8:4f2a:10::1c", "2001:db8:4f2a:10::2d")
ATTACKER_IPS = ("91.240.118.172", "91.240.118.173")
ROOT_LOGIN_IP = "45.142.214.19"

CONSOLE_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"
)
CLI_UA = "aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9"
BOTO_UA = (
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219 md/arch#x86_64 "
    "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144"
)
TERRAFORM_UA = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.2 (+https://www.terraform.io) "
    "terraform-provider-aws/5.58.0 aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.5"
)
JAVA_UA = "aws-sdk-java/2.26.20 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11"
MONITORING_UA = "datadog-agent/7.55.2 aws-sdk-go/1.54.19 (go1.22.5; linux; amd64)"
ATTACKER_CLI_UA = "aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-1045-aws botocore/1.16.19"
SCANNER_UA = "python-requests/2.31.0 Boto3/1.28.0 Botocore/1.31.0 pacu/1.5.3"


@dataclass(frozen=True)
class Account:
    id: str
    name: str


@dataclass(frozen=True)
class Actor:
    """Someone or something that calls AWS APIs in one account."""

    kind: str  # IAMUser, AssumedRole, AWSService, FederatedUser, AWSAccount, IdentityCenterUser
    name: str  # user name, role name, service principal, ...
    session: str = ""
    ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = (BOTO_UA,)
    weight: float = 1.0
    console: bool = False
    api_filter: str = "any"  # "read" for read-only actors


def accounts(count: int, rng: random.Random) -> list[Account]:
    result = []
    for index in range(count):
        name = ACCOUNT_NAMES[index] if index < len(ACCOUNT_NAMES) else f"workload-{index:02d}"
        result.append(Account(id=f"{rng.randrange(10**11, 10**12)}", name=name))
    return result


def actors_for(account: Account) -> list[Actor]:
    """The principals that live in every account; the mix is the same, the names repeat."""
    humans = ("alice", "bob", "carol", "dave")
    cast = [
        Actor(
            "IAMUser",
            h,
            ips=OFFICE_IPS + VPN_IPS + HOME_IPV6,
            user_agents=(CLI_UA, CONSOLE_UA),
            weight=1.5,
            console=True,
        )
        for h in humans
    ]
    cast += [
        Actor("IAMUser", "ci-deployer", ips=CI_IPS, user_agents=(TERRAFORM_UA,), weight=4),
        Actor("IAMUser", "backup-agent", ips=("10.20.4.17",), user_agents=(BOTO_UA,), weight=2),
        Actor(
            "AssumedRole",
            "AWSReservedSSO_AdministratorAccess_6f1c2d3e4b5a6978",
            session="erin@example.com",
            ips=OFFICE_IPS + VPN_IPS,
            user_agents=(CONSOLE_UA, CLI_UA),
            weight=3,
            console=True,
        ),
        Actor(
            "AssumedRole",
            "AWSReservedSSO_ReadOnly_0a9b8c7d6e5f4a3b",
            session="frank@example.com",
            ips=OFFICE_IPS,
            user_agents=(CONSOLE_UA,),
            weight=2,
            console=True,
            api_filter="read",
        ),
        Actor(
            "AssumedRole",
            "web-app-instance-role",
            session="i-0a1b2c3d4e5f60718",
            ips=("10.20.1.34", "10.20.2.51"),
            user_agents=(JAVA_UA,),
            weight=8,
        ),
        Actor(
            "AssumedRole",
            "orders-processor-lambda",
            session="orders-processor",
            ips=("3.91.170.44",),
            user_agents=(BOTO_UA,),
            weight=6,
        ),
        Actor(
            "AssumedRole",
            "monitoring-readonly",
            session="datadog-aws-integration",
            ips=("3.233.146.10", "3.233.146.11"),
            user_agents=(MONITORING_UA,),
            weight=14,
            api_filter="read",
        ),
        Actor("AWSService", "config.amazonaws.com", weight=2, api_filter="read"),
        Actor("AWSService", "cloudtrail.amazonaws.com", weight=0.5),
        Actor("FederatedUser", "build-bot", ips=CI_IPS, user_agents=(BOTO_UA,), weight=0.3),
        Actor(
            "AWSAccount",
            "partner",
            ips=("52.94.236.248",),
            user_agents=(BOTO_UA,),
            weight=0.2,
            api_filter="read",
        ),
        Actor(
            "IdentityCenterUser",
            "grace",
            ips=OFFICE_IPS,
            user_agents=(CONSOLE_UA,),
            weight=0.3,
            api_filter="read",
        ),
    ]
    return cast


Params = Callable[[random.Random, Account, str], dict | None]


@dataclass(frozen=True)
class Api:
    source: str
    name: str
    read_only: bool
    weight: float
    request: Params = lambda rng, account, region: None
    response: Params = lambda rng, account, region: None
    errors: tuple[str, ...] = ("AccessDenied",)
    is_global: bool = False


def _instance(rng: random.Random) -> str:
    return f"i-0{rng.getrandbits(60):015x}"


def _bucket(rng: random.Random, account: Account, region: str) -> str:
    return rng.choice(("app-assets", "data-exports", "logs-archive", "terraform-state")) + (
        f"-{account.name}-{region}"
    )


API_CATALOG: tuple[Api, ...] = (
    # EC2 / VPC: the bulk of read noise.
    Api(
        "ec2.amazonaws.com",
        "DescribeInstances",
        True,
        30,
        lambda r, a, g: {"instancesSet": {}, "filterSet": {}},
        errors=("Client.UnauthorizedOperation", "Client.RequestLimitExceeded"),
    ),
    Api(
        "ec2.amazonaws.com",
        "DescribeSecurityGroups",
        True,
        12,
        lambda r, a, g: {"securityGroupSet": {}, "filterSet": {}},
        errors=("Client.UnauthorizedOperation",),
    ),
    Api(
        "ec2.amazonaws.com",
        "DescribeVolumes",
        True,
        8,
        lambda r, a, g: {"volumeSet": {}, "filterSet": {}},
        errors=("Client.UnauthorizedOperation",),
    ),
    Api(
        "ec2.amazonaws.com",
        "DescribeSubnets",
        True,
        5,
        lambda r, a, g: {"subnetSet": {}},
        errors=("Client.UnauthorizedOperation",),
    ),
    Api(
        "ec2.amazonaws.com",
        "DescribeNetworkInterfaces",
        True,
        6,
        lambda r, a, g: {"networkInterfaceIdSet": {}},
        errors=("Client.UnauthorizedOperation",),
    ),
    Api(
        "ec2.amazonaws.com",
        "CreateTags",
        False,
        1.5,
        lambda r, a, g: {
            "resourcesSet": {"items": [{"resourceId": _instance(r)}]},
            "tagSet": {"items": [{"key": "team", "value": "orders"}]},
        },
        lambda r, a, g: {"requestId": "", "_return": True},
        errors=("Client.UnauthorizedOperation",),
    ),
    Api(
        "ec2.amazonaws.com",
        "RunInstances",
        False,
        0.6,
        lambda r, a, g: {
            "instanceType": r.choice(("t3.medium", "m6i.large")),
            "minCount": 1,
            "maxCount": 1,
            "networkInterfaceSet": {
                "items": [{"subnetId": "subnet-0f3a2b1c", "privateIpAddress": "10.20.1.77"}]
            },
        },
        lambda r, a, g: {
            "instancesSet": {
                "items": [{"instanceId": _instance(r), "privateIpAddress": "10.20.1.77"}]
            }
        },
        errors=("Client.UnauthorizedOperation", "Client.InsufficientInstanceCapacity"),
    ),
    # S3 management events.
    Api(
        "s3.amazonaws.com",
        "ListBuckets",
        True,
        6,
        lambda r, a, g: {"Host": "s3.amazonaws.com"},
        is_global=True,
    ),
    Api(
        "s3.amazonaws.com",
        "GetBucketAcl",
        True,
        6,
        lambda r, a, g: {"bucketName": _bucket(r, a, g), "acl": ""},
    ),
    Api(
        "s3.amazonaws.com",
        "GetBucketPolicy",
        True,
        5,
        lambda r, a, g: {"bucketName": _bucket(r, a, g), "policy": ""},
        errors=("NoSuchBucketPolicy", "AccessDenied"),
    ),
    Api(
        "s3.amazonaws.com",
        "GetBucketEncryption",
        True,
        4,
        lambda r, a, g: {"bucketName": _bucket(r, a, g), "encryption": ""},
        errors=("ServerSideEncryptionConfigurationNotFoundError",),
    ),
    Api(
        "s3.amazonaws.com",
        "GetBucketPublicAccessBlock",
        True,
        4,
        lambda r, a, g: {"bucketName": _bucket(r, a, g), "publicAccessBlock": ""},
        errors=("NoSuchPublicAccessBlockConfiguration",),
    ),
    # IAM and STS (global).
    Api("iam.amazonaws.com", "ListUsers", True, 3, is_global=True),
    Api("iam.amazonaws.com", "ListRoles", True, 4, is_global=True),
    Api(
        "iam.amazonaws.com",
        "GetRole",
        True,
        4,
        lambda r, a, g: {
            "roleName": r.choice(("web-app-instance-role", "orders-processor-lambda"))
        },
        errors=("NoSuchEntity", "AccessDenied"),
        is_global=True,
    ),
    Api(
        "iam.amazonaws.com",
        "ListAttachedRolePolicies",
        True,
        3,
        lambda r, a, g: {"roleName": "web-app-instance-role"},
        is_global=True,
    ),
    Api(
        "iam.amazonaws.com",
        "GetAccountPasswordPolicy",
        True,
        1,
        errors=("NoSuchEntity",),
        is_global=True,
    ),
    Api("sts.amazonaws.com", "GetCallerIdentity", True, 10, is_global=True),
    Api(
        "sts.amazonaws.com",
        "AssumeRole",
        False,
        6,
        lambda r, a, g: {
            "roleArn": f"arn:aws:iam::{a.id}:role/deploy",
            "roleSessionName": f"deploy-{r.randrange(10**6):06d}",
            "durationSeconds": 3600,
        },
        lambda r, a, g: {
            "credentials": {
                "accessKeyId": f"ASIA{r.getrandbits(64):016X}",
                "expiration": "",
                "sessionToken": "redacted",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROA{r.getrandbits(64):016X}:deploy",
                "arn": f"arn:aws:sts::{a.id}:assumed-role/deploy/x",
            },
        },
    ),
    # KMS, Secrets, SSM, Lambda, Logs, CloudWatch.
    Api(
        "kms.amazonaws.com",
        "Decrypt",
        True,
        14,
        lambda r, a, g: {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {
                "aws:lambda:FunctionArn": f"arn:aws:lambda:{g}:{a.id}:function:orders"
            },
        },
        errors=("AccessDenied", "InvalidCiphertextException"),
    ),
    Api(
        "kms.amazonaws.com",
        "GenerateDataKey",
        True,
        6,
        lambda r, a, g: {"keyId": f"arn:aws:kms:{g}:{a.id}:alias/aws/s3", "keySpec": "AES_256"},
    ),
    Api("kms.amazonaws.com", "ListKeys", True, 2),
    Api(
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        True,
        5,
        lambda r, a, g: {"secretId": f"arn:aws:secretsmanager:{g}:{a.id}:secret:orders/db-AbCdEf"},
        errors=("AccessDeniedException", "ResourceNotFoundException"),
    ),
    Api(
        "ssm.amazonaws.com",
        "GetParameter",
        True,
        6,
        lambda r, a, g: {"name": "/orders/feature-flags", "withDecryption": False},
        errors=("ParameterNotFound", "AccessDeniedException"),
    ),
    Api(
        "ssm.amazonaws.com",
        "DescribeInstanceInformation",
        True,
        4,
        errors=("AccessDeniedException",),
    ),
    Api(
        "lambda.amazonaws.com", "ListFunctions20150331", True, 4, errors=("AccessDeniedException",)
    ),
    Api(
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        True,
        2,
        lambda r, a, g: {"functionName": "orders-processor"},
        errors=("ResourceNotFoundException",),
    ),
    Api(
        "logs.amazonaws.com",
        "CreateLogStream",
        False,
        4,
        lambda r, a, g: {
            "logGroupName": "/aws/lambda/orders-processor",
            "logStreamName": f"2026/01/01/[$LATEST]{r.getrandbits(64):016x}",
        },
        errors=("ResourceAlreadyExistsException",),
    ),
    Api("logs.amazonaws.com", "DescribeLogGroups", True, 4, errors=("ThrottlingException",)),
    Api("monitoring.amazonaws.com", "GetMetricData", True, 10, errors=("Throttling",)),
    Api("monitoring.amazonaws.com", "DescribeAlarms", True, 4, errors=("Throttling",)),
    Api(
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        True,
        2,
        lambda r, a, g: {"includeShadowTrails": True},
    ),
    Api(
        "cloudtrail.amazonaws.com",
        "LookupEvents",
        True,
        1,
        lambda r, a, g: {"maxResults": 50},
        errors=("ThrottlingException",),
    ),
    Api("config.amazonaws.com", "DescribeConfigurationRecorders", True, 2),
    Api("guardduty.amazonaws.com", "ListDetectors", True, 1.5),
    Api(
        "elasticloadbalancing.amazonaws.com",
        "DescribeLoadBalancers",
        True,
        5,
        errors=("AccessDenied",),
    ),
    Api("rds.amazonaws.com", "DescribeDBInstances", True, 4, errors=("AccessDenied",)),
    Api(
        "dynamodb.amazonaws.com",
        "DescribeTable",
        True,
        3,
        lambda r, a, g: {"tableName": "orders"},
        errors=("ResourceNotFoundException",),
    ),
)

# The one-off recon calls an intruder makes with a stolen key, mostly denied.
RECON_CALLS: tuple[tuple[str, str], ...] = (
    ("iam.amazonaws.com", "ListUsers"),
    ("iam.amazonaws.com", "ListRoles"),
    ("iam.amazonaws.com", "ListAccessKeys"),
    ("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
    ("iam.amazonaws.com", "ListAttachedUserPolicies"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("secretsmanager.amazonaws.com", "ListSecrets"),
    ("ssm.amazonaws.com", "DescribeParameters"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSnapshots"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
    ("organizations.amazonaws.com", "DescribeOrganization"),
    ("guardduty.amazonaws.com", "ListDetectors"),
    ("cloudtrail.amazonaws.com", "DescribeTrails"),
    ("kms.amazonaws.com", "ListKeys"),
    ("rds.amazonaws.com", "DescribeDBInstances"),
)

GLOBAL_SOURCES = frozenset(
    {
        "iam.amazonaws.com",
        "sts.amazonaws.com",
        "signin.amazonaws.com",
        "organizations.amazonaws.com",
    }
)
