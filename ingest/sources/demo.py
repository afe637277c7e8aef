"""`ingest demo`: deterministic synthetic CloudTrail in the S3 delivery layout, with attacks.

The same spec (events, days, accounts, seed, end hour) always produces the same bytes: every
random choice comes from one seeded generator and gzip headers carry no timestamp. Events are
generated an hour at a time, so memory stays flat for `--events 1000000` and beyond.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import string
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from ingest.sources import demo_benign
from ingest.sources.demo_catalog import (
    API_CATALOG,
    ATTACKER_CLI_UA,
    ATTACKER_IPS,
    CONSOLE_UA,
    GLOBAL_REGION,
    GLOBAL_SOURCES,
    HOME_IPV6,
    RECON_CALLS,
    REGIONS,
    ROOT_LOGIN_IP,
    SCANNER_UA,
    Account,
    Actor,
    Api,
    accounts,
    actors_for,
)

WINDOW = timedelta(minutes=5)
SPEC_FILE = "demo.json"
SCENARIOS_FILE = "scenarios.json"
GENERATING_MARKER = ".generating"
IDENTITY_STORE_ARN = "arn:aws:identitystore::123456789012:identitystore/d-9067a1b2c3"
FILE_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class DemoSpec:
    events: int = 50_000
    days: int = 7
    accounts: int = 3
    seed: int = 7
    end: str = ""  # ISO hour, UTC: the generated range is [end - days, end)

    @property
    def end_at(self) -> datetime:
        return datetime.fromisoformat(self.end.replace("Z", "+00:00"))

    @property
    def start_at(self) -> datetime:
        return self.end_at - timedelta(days=self.days)


@dataclass
class DemoResult:
    spec: DemoSpec
    directory: Path
    events: int
    files: int
    digests: int
    scenarios: list[dict]


def current_hour() -> str:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now.strftime("%Y-%m-%dT%H:00:00Z")


def read_spec(directory: Path) -> DemoSpec | None:
    path = directory / SPEC_FILE
    if not path.is_file():
        return None
    return DemoSpec(**json.loads(path.read_text()))


def is_complete(directory: Path) -> bool:
    """True when a finished dataset is there; False for nothing, or for an interrupted run."""
    return (directory / SPEC_FILE).is_file() and not (directory / GENERATING_MARKER).exists()


def _stable_id(prefix: str, *parts: str, length: int = 16) -> str:
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest().upper()
    return prefix + digest[:length]


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Generator:
    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.accounts = accounts(spec.accounts, self.rng)
        self.cast = {a.id: actors_for(a) for a in self.accounts}
        self.account_weights = [max(1.0, 3.0 - i) for i in range(len(self.accounts))]
        self.read_apis = [api for api in API_CATALOG if api.read_only]

    # -- identities --------------------------------------------------------------------------

    def identity(self, actor: Actor, account: Account, when: datetime, mfa: bool = False) -> dict:
        acct = account.id
        if actor.kind == "IAMUser":
            return {
                "type": "IAMUser",
                "principalId": _stable_id("AIDA", acct, actor.name),
                "arn": f"arn:aws:iam::{acct}:user/{actor.name}",
                "accountId": acct,
                "accessKeyId": _stable_id("AKIA", acct, actor.name, "key"),
                "userName": actor.name,
            }
        if actor.kind == "AssumedRole":
            role_id = _stable_id("AROA", acct, actor.name)
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{actor.session}",
                "arn": f"arn:aws:sts::{acct}:assumed-role/{actor.name}/{actor.session}",
                "accountId": acct,
                "accessKeyId": _stable_id("ASIA", acct, actor.name, when.strftime("%Y%m%d%H")),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": f"arn:aws:iam::{acct}:role/{actor.name}",
                        "accountId": acct,
                        "userName": actor.name,
                    },
                    "webIdFederationData": {},
                    "attributes": {
                        "creationDate": _iso(when.replace(minute=0, second=0)),
                        "mfaAuthenticated": "true" if mfa else "false",
                    },
                },
            }
        if actor.kind == "AWSService":
            return {"type": "AWSService", "invokedBy": actor.name}
        if actor.kind == "FederatedUser":
            return {
                "type": "FederatedUser",
                "principalId": f"{acct}:{actor.name}",
                "arn": f"arn:aws:sts::{acct}:federated-user/{actor.name}",
                "accountId": acct,
                "accessKeyId": _stable_id("ASIA", acct, actor.name, "fed"),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "IAMUser",
                        "principalId": _stable_id("AIDA", acct, "ci-deployer"),
                        "arn": f"arn:aws:iam::{acct}:user/ci-deployer",
                        "accountId": acct,
                        "userName": "ci-deployer",
                    },
                    "attributes": {"creationDate": _iso(when), "mfaAuthenticated": "false"},
                },
            }
        if actor.kind == "AWSAccount":
            partner = str(int(acct) // 7 + 100_000_000_000)[:12]
            return {
                "type": "AWSAccount",
                "principalId": _stable_id("AIDA", partner, actor.name),
                "accountId": partner,
            }
        if actor.kind == "IdentityCenterUser":
            return {
                "type": "IdentityCenterUser",
                "accountId": acct,
                "onBehalfOf": {
                    "userId": str(uuid.UUID(_stable_id("", actor.name, length=32).lower())),
                    "identityStoreArn": IDENTITY_STORE_ARN,
                },
                "credentialId": _stable_id("", acct, actor.name, when.strftime("%Y%m%d")),
            }
        raise ValueError(actor.kind)

    # -- records -----------------------------------------------------------------------------

    def record(
        self,
        when: datetime,
        account: Account,
        region: str,
        identity: dict,
        source: str,
        name: str,
        *,
        read_only: bool,
        ip: str,
        user_agent: str,
        request: dict | None = None,
        response: dict | None = None,
        error: tuple[str, str] | None = None,
        event_type: str = "AwsApiCall",
        additional: dict | None = None,
        resources: list | None = None,
    ) -> dict:
        rng = self.rng
        record: dict = {
            "eventVersion": "1.09" if event_type == "AwsApiCall" else "1.08",
            "userIdentity": identity,
            "eventTime": _iso(when),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": user_agent,
        }
        if error:
            record["errorCode"], record["errorMessage"] = error
        record["requestParameters"] = request
        record["responseElements"] = None if error else response
        if additional:
            record["additionalEventData"] = additional
        record["requestID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record["readOnly"] = read_only
        if resources:
            record["resources"] = resources
        record["eventType"] = event_type
        record["managementEvent"] = True
        record["recipientAccountId"] = account.id
        if ip.startswith("10."):
            record["vpcEndpointId"] = _stable_id("vpce-0", account.id, source, length=16).lower()
        record["eventCategory"] = "Management"
        if not ip.endswith("amazonaws.com") and ip != "AWS Internal":
            host = source.replace(".amazonaws.com", "")
            record["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{host}.{region}.amazonaws.com",
            }
        return record

    def _denied(self, identity: dict, source: str, name: str) -> tuple[str, str]:
        arn = identity.get("arn", identity.get("invokedBy", "unknown"))
        service = source.split(".")[0]
        return (
            "AccessDenied",
            f"User: {arn} is not authorized to perform: {service}:{name} "
            "because no identity-based policy allows the action",
        )

    def background_event(self, when: datetime) -> dict:
        rng = self.rng
        account = rng.choices(self.accounts, self.account_weights)[0]
        cast = self.cast[account.id]
        actor = rng.choices(cast, [a.weight for a in cast])[0]
        if actor.console and actor.kind == "IAMUser" and rng.random() < 0.01:
            return self.console_login(when, account, actor, mfa=True, success=rng.random() > 0.08)
        apis = self.read_apis if actor.api_filter == "read" else API_CATALOG
        api: Api = rng.choices(apis, [a.weight for a in apis])[0]
        region = (
            GLOBAL_REGION
            if api.is_global or api.source in GLOBAL_SOURCES
            else (rng.choice(REGIONS))
        )
        identity = self.identity(actor, account, when, mfa=actor.console)
        if actor.kind == "AWSService":
            ip = user_agent = actor.name
        else:
            ip = rng.choice(actor.ips)
            user_agent = rng.choice(actor.user_agents)
            if rng.random() < 0.03 and not api.read_only:
                # Services such as CloudFormation call on the caller's behalf.
                ip = user_agent = "cloudformation.amazonaws.com"
                identity["invokedBy"] = "cloudformation.amazonaws.com"
        error = None
        if rng.random() < 0.025:
            code = rng.choice(api.errors)
            error = (
                self._denied(identity, api.source, api.name)
                if code == "AccessDenied"
                else (code, f"{code} ({api.name})")
            )
        return self.record(
            when,
            account,
            region,
            identity,
            api.source,
            api.name,
            read_only=api.read_only,
            ip=ip,
            user_agent=user_agent,
            request=api.request(rng, account, region),
            response=api.response(rng, account, region),
            error=error,
        )

    def console_login(
        self,
        when: datetime,
        account: Account,
        actor: Actor,
        *,
        mfa: bool,
        success: bool = True,
        ip: str | None = None,
    ) -> dict:
        identity = self.identity(actor, account, when)
        identity.pop("accessKeyId", None)
        record = self.record(
            when,
            account,
            GLOBAL_REGION,
            identity,
            "signin.amazonaws.com",
            "ConsoleLogin",
            read_only=False,
            ip=ip or self.rng.choice(actor.ips),
            user_agent=CONSOLE_UA,
            response={"ConsoleLogin": "Success" if success else "Failure"},
            event_type="AwsConsoleSignIn",
            additional={
                "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs",
                "MobileVersion": "No",
                "MFAUsed": "Yes" if mfa else "No",
            },
        )
        if not success:
            # Failed sign-ins carry a message but no error code.
            record["errorMessage"] = "Failed authentication"
            record["responseElements"] = {"ConsoleLogin": "Failure"}
        return record

    # -- attacks -----------------------------------------------------------------------------

    def scenarios(self) -> list[tuple[dict, list[dict]]]:
        """Labelled attack scenarios; each label lists the eventIDs that make it up."""
        rng = self.rng
        prod = self.accounts[0]
        other = self.accounts[1] if len(self.accounts) > 1 else prod
        region = REGIONS[0]
        cast = {a.name: a for a in self.cast[prod.id]}
        deployer = cast["ci-deployer"]
        stolen = self.identity(deployer, prod, self.spec.end_at)
        # Scenario times are fractions of the generated span, so any --days holds them all.
        span = self.spec.end_at - self.spec.start_at
        start = self.spec.end_at - span * 0.18
        clock = [start]

        def tick(seconds: float) -> datetime:
            clock[0] += timedelta(seconds=seconds)
            return clock[0]

        def as_attacker(ip: str = ATTACKER_IPS[0]) -> Callable[..., dict]:
            def call(source: str, name: str, **kw) -> dict:
                when = kw.pop("when", None) or tick(rng.uniform(4, 40))
                identity = kw.pop("identity", stolen)
                reg = GLOBAL_REGION if source in GLOBAL_SOURCES else region
                return self.record(
                    when,
                    prod,
                    reg,
                    identity,
                    source,
                    name,
                    ip=ip,
                    user_agent=kw.pop("user_agent", SCANNER_UA),
                    **kw,
                )

            return call

        attacker = as_attacker()
        result: list[tuple[dict, list[dict]]] = []

        def label(name: str, techniques: list[str], description: str, records: list[dict]):
            result.append(
                (
                    {
                        "scenario": name,
                        "description": description,
                        "account_id": prod.id,
                        "mitre_techniques": techniques,
                        "event_ids": [r["eventID"] for r in records],
                    },
                    records,
                )
            )

        # 1. A burst of mostly denied discovery calls from the stolen CI key.
        burst = []
        for index in range(40):
            source, name = RECON_CALLS[index % len(RECON_CALLS)]
            denied = index % 7 != 0
            burst.append(
                attacker(
                    source,
                    name,
                    when=tick(rng.uniform(1, 5)),
                    read_only=True,
                    error=self._denied(stolen, source, name) if denied else None,
                )
            )
        label(
            "recon-access-denied-burst",
            ["T1580", "T1087.004"],
            "40 discovery calls in a few minutes from a stolen key, most denied",
            burst,
        )

        # 2. The key assumes an admin role from an address it has never used.
        admin_role_name = "OrganizationAccountAccessRole"
        admin_role = f"arn:aws:iam::{prod.id}:role/{admin_role_name}"
        assume = attacker(
            "sts.amazonaws.com",
            "AssumeRole",
            read_only=False,
            request={
                "roleArn": admin_role,
                "roleSessionName": "ci-maint",
                "durationSeconds": 43200,
            },
            response={
                "assumedRoleUser": {
                    "assumedRoleId": _stable_id("AROA", prod.id, "OrganizationAccountAccessRole")
                    + ":ci-maint",
                    "arn": f"arn:aws:sts::{prod.id}:assumed-role/{admin_role_name}/ci-maint",
                }
            },
            resources=[{"accountId": prod.id, "type": "AWS::IAM::Role", "ARN": admin_role}],
        )
        label(
            "assume-role-new-ip",
            ["T1078.004", "T1550.001"],
            "AssumeRole of the organization admin role from a never-seen foreign IP",
            [assume],
        )

        admin = self.identity(
            Actor("AssumedRole", "OrganizationAccountAccessRole", session="ci-maint"),
            prod,
            clock[0],
        )
        as_admin = as_attacker(ATTACKER_IPS[1])

        def admin_call(source: str, name: str, **kw) -> dict:
            return as_admin(source, name, identity=admin, user_agent=ATTACKER_CLI_UA, **kw)

        # 3. Persistence: a new access key for another user.
        key = admin_call(
            "iam.amazonaws.com",
            "CreateAccessKey",
            read_only=False,
            request={"userName": "bob"},
            response={
                "accessKey": {
                    "userName": "bob",
                    "accessKeyId": _stable_id("AKIA", "bob", "new"),
                    "status": "Active",
                    "createDate": "",
                }
            },
        )
        label(
            "create-access-key-other-user",
            ["T1098.001"],
            "CreateAccessKey for user bob by an assumed admin session",
            [key],
        )

        # 4. Defense evasion: logging stopped, trail deleted, GuardDuty removed.
        trail = f"arn:aws:cloudtrail:{region}:{prod.id}:trail/org-trail"
        stop = admin_call(
            "cloudtrail.amazonaws.com", "StopLogging", read_only=False, request={"name": trail}
        )
        delete = admin_call(
            "cloudtrail.amazonaws.com", "DeleteTrail", read_only=False, request={"name": trail}
        )
        label(
            "cloudtrail-stop-and-delete",
            ["T1562.008"],
            "StopLogging then DeleteTrail on the organization trail",
            [stop, delete],
        )
        detector = admin_call(
            "guardduty.amazonaws.com",
            "DeleteDetector",
            read_only=False,
            request={"detectorId": "12abc34d567e8fa901bc2d34e56789f0"},
        )
        label("guardduty-detector-deleted", ["T1562.001"], "GuardDuty detector deleted", [detector])

        # 5. Exposure: a bucket made public by policy and by ACL.
        bucket = f"data-exports-{prod.name}-{region}"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Public",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        put_policy = admin_call(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            read_only=False,
            request={
                "bucketName": bucket,
                "Host": f"{bucket}.s3.amazonaws.com",
                "bucketPolicy": policy,
                "policy": "",
            },
        )
        put_acl = admin_call(
            "s3.amazonaws.com",
            "PutBucketAcl",
            read_only=False,
            request={
                "bucketName": bucket,
                "Host": f"{bucket}.s3.amazonaws.com",
                "acl": "",
                "AccessControlPolicy": {
                    "AccessControlList": {
                        "Grant": [
                            {
                                "Grantee": {
                                    "xsi:type": "Group",
                                    "URI": "http://acs.amazonaws.com/groups/global/AllUsers",
                                },
                                "Permission": "READ",
                            }
                        ]
                    }
                },
            },
        )
        label(
            "s3-bucket-made-public",
            ["T1530", "T1537"],
            "Bucket policy with Principal * and an AllUsers READ grant",
            [put_policy, put_acl],
        )

        # 6. Network exposure: SSH open to the world.
        sg = admin_call(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            read_only=False,
            request={
                "groupId": "sg-0a1b2c3d4e5f67890",
                "ipPermissions": {
                    "items": [
                        {
                            "ipProtocol": "tcp",
                            "fromPort": 22,
                            "toPort": 22,
                            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                            "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]},
                        }
                    ]
                },
            },
            response={"_return": True},
        )
        label(
            "security-group-open-to-world",
            ["T1562.007"],
            "Ingress on tcp/22 from 0.0.0.0/0 and ::/0",
            [sg],
        )

        # 7. Impact: a KMS key scheduled for deletion.
        kms = admin_call(
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            read_only=False,
            request={
                "keyId": f"arn:aws:kms:{region}:{prod.id}:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
                "pendingWindowInDays": 7,
            },
            response={"keyState": "PendingDeletion", "pendingWindowInDays": 7},
        )
        label(
            "kms-key-scheduled-deletion",
            ["T1485"],
            "KMS key scheduled for deletion in 7 days",
            [kms],
        )

        # 8. Root signs in to the console (another account, another day).
        root_when = self.spec.end_at - span * 0.31
        root_identity = {
            "type": "Root",
            "principalId": other.id,
            "arn": f"arn:aws:iam::{other.id}:root",
            "accountId": other.id,
            "accessKeyId": "",
        }
        root_login = self.record(
            root_when,
            other,
            GLOBAL_REGION,
            root_identity,
            "signin.amazonaws.com",
            "ConsoleLogin",
            read_only=False,
            ip=ROOT_LOGIN_IP,
            user_agent=CONSOLE_UA,
            response={"ConsoleLogin": "Success"},
            event_type="AwsConsoleSignIn",
            additional={
                "LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No",
                "MFAUsed": "Yes",
            },
        )
        label("root-console-login", ["T1078.004"], "Root user console sign-in", [root_login])

        # 9. An IAM user signs in without MFA from a home address.
        dave = next(a for a in self.cast[other.id] if a.name == "dave")
        no_mfa = self.console_login(
            self.spec.end_at - span * 0.45, other, dave, mfa=False, ip=HOME_IPV6[0]
        )
        label(
            "console-login-without-mfa",
            ["T1078.004"],
            "IAM user console sign-in without MFA",
            [no_mfa],
        )
        return result

    # -- layout ------------------------------------------------------------------------------

    def hourly_counts(self, total: int) -> list[int]:
        """Spread events over the hours, busier in working hours, summing exactly to total."""
        hours = self.spec.days * 24
        start = self.spec.start_at
        weights = [
            1.0 + (1.5 if 7 <= (start + timedelta(hours=h)).hour <= 18 else 0.0)
            for h in range(hours)
        ]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        remainders = sorted(
            range(hours), key=lambda h: (weights[h] * scale - counts[h], -h), reverse=True
        )
        for h in remainders[: total - sum(counts)]:
            counts[h] += 1
        return counts

    def events_by_hour(self, injected: list[dict]) -> Iterator[list[dict]]:
        """Background events hour by hour, with the injected records (attacks and benign
        look-alikes) of each hour among them."""
        background = self.spec.events - len(injected)
        injected_by_hour: dict[int, list[dict]] = defaultdict(list)
        start = self.spec.start_at
        for rec in injected:
            when = datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00"))
            injected_by_hour[int((when - start).total_seconds() // 3600)].append(rec)
        for hour, count in enumerate(self.hourly_counts(background)):
            hour_start = start + timedelta(hours=hour)
            records = [
                self.background_event(hour_start + timedelta(seconds=self.rng.random() * 3600))
                for _ in range(count)
            ]
            records.extend(injected_by_hour.get(hour, []))
            yield records


def _object_key(account_id: str, region: str, delivered: datetime, file_id: str) -> str:
    return (
        f"AWSLogs/{account_id}/CloudTrail/{region}/{delivered:%Y/%m/%d}/"
        f"{account_id}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{file_id}.json.gz"
    )


def generate(
    spec: DemoSpec, directory: Path, on_progress: Callable[[int], None] | None = None
) -> DemoResult:
    """Write the dataset under `directory` (an `AWSLogs/` tree plus spec and labels).

    A marker file exists while files are being written, so an interrupted run is recognized
    (see `is_complete`) and regenerated rather than mixed with the next one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / GENERATING_MARKER).touch()
    gen = Generator(spec)
    labelled = gen.scenarios()
    benign = demo_benign.episodes(gen)
    injected = [r for _, records in labelled + benign for r in records]
    minimum = len(injected) + 1
    if spec.events < minimum:
        raise ValueError(
            f"--events must be at least {minimum} to hold the attack scenarios and the benign "
            "look-alikes"
        )

    logs = directory / "AWSLogs"
    files = events = 0
    file_rng = random.Random(spec.seed * 7919 + 1)
    for records in gen.events_by_hour(injected):
        by_file: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
        for rec in records:
            when = datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00"))
            window = int(when.timestamp() // WINDOW.total_seconds())
            by_file[(rec["recipientAccountId"], rec["awsRegion"], window)].append(rec)
        for (account_id, region, window), recs in sorted(by_file.items()):
            recs.sort(key=lambda r: r["eventTime"])
            window_end = datetime.fromtimestamp((window + 1) * WINDOW.total_seconds(), UTC)
            delivered = window_end + timedelta(minutes=file_rng.uniform(1, 12))
            file_id = "".join(file_rng.choices(FILE_ID_ALPHABET, k=16))
            path = directory / _object_key(account_id, region, delivered, file_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = orjson.dumps({"Records": recs})
            path.write_bytes(gzip.compress(payload, compresslevel=6, mtime=0))
            files += 1
            events += len(recs)
        if on_progress:
            on_progress(len(records))

    digests = _write_digests(gen, directory)
    scenarios = [meta for meta, _ in labelled]
    (directory / SCENARIOS_FILE).write_text(json.dumps(scenarios, indent=2) + "\n")
    demo_benign.write_labels(directory, benign)
    (directory / SPEC_FILE).write_text(json.dumps(asdict(spec), indent=2) + "\n")
    (directory / GENERATING_MARKER).unlink()
    return DemoResult(spec, logs, events, files, digests, scenarios)


def _write_digests(gen: Generator, directory: Path) -> int:
    """One digest per account and day, as CloudTrail delivers them; landing must skip these."""
    count = 0
    region = REGIONS[0]
    for account in gen.accounts:
        for day in range(gen.spec.days):
            start = gen.spec.start_at + timedelta(days=day)
            end = start + timedelta(days=1)
            key = (
                f"AWSLogs/{account.id}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
                f"{account.id}_CloudTrail-Digest_{region}_org-trail_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz"
            )
            digest = {
                "awsAccountId": account.id,
                "digestStartTime": _iso(start),
                "digestEndTime": _iso(end),
                "digestS3Bucket": "org-cloudtrail-logs",
                "digestS3Object": key,
                "digestPublicKeyFingerprint": _stable_id("", account.id, length=32).lower(),
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": _iso(end - timedelta(minutes=3)),
                "oldestEventTime": _iso(start),
                "previousDigestS3Bucket": "org-cloudtrail-logs",
                "logFiles": [],
            }
            path = directory / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(orjson.dumps(digest), mtime=0))
            count += 1
    return count
