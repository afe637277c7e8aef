"""IP extraction and classification: macros/cross_engine/ips.sql and int_cloudtrail__ips.

The SQL is checked against an independent reference written with `re` and `ipaddress`:

- property-based, on the macros' compiled SQL run in an in-memory DuckDB (with inet);
- end to end, on the lake `dbt build` writes from the Stratus Red Team fixtures, the demo and
  hand-crafted records.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.duck import load_extension, sql_string

from conftest import (
    BUILD,
    PROJECT_ROOT,
    Workspace,
    cloudtrail_record,
    compile_inline,
    run_dbt,
    run_ingest,
    write_delivery_file,
)

SEED = PROJECT_ROOT / "seeds" / "ip_address_classes.csv"


# -- the reference --------------------------------------------------------------------------

IPV4_CANDIDATE = re.compile(r"[0-9]+(?:[.][0-9]+){3,}")
# Runs of letters too, so a letter outside a-f disqualifies the whole run (ARNs, timestamps).
IPV6_CANDIDATE = re.compile(r"[0-9A-Za-z:.]*:[0-9A-Za-z:.]*:[0-9A-Za-z:.]*")
IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]+")
OCTET = re.compile(r"0|[1-9][0-9]{0,2}")

# Fields whose text is searched; userAgent (and everything else) never is.
SEARCHED_DOCUMENTS = (
    "userIdentity",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "resources",
    "serviceEventDetails",
)

CLASSES = [
    (ipaddress.ip_network(row["cidr"]), row["ip_class"])
    for row in csv.DictReader(SEED.open(newline=""))
]


def ref_normalize(text: str | None) -> str | None:
    """The normalized address if `text` is exactly one IP literal, else None."""
    if text is None:
        return None
    octets = text.split(".")
    if len(octets) == 4 and all(OCTET.fullmatch(o) and int(o) <= 255 for o in octets):
        return text
    if text.count(":") >= 2 and IPV6_CHARS.fullmatch(text):
        try:
            address = ipaddress.IPv6Address(text)  # rejects leading zeros in a dotted tail
        except ValueError:
            return None
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return address.compressed
    return None


def ref_candidates(text: str) -> list[str]:
    return [m.group() for m in IPV4_CANDIDATE.finditer(text)] + [
        m.group() for m in IPV6_CANDIDATE.finditer(text)
    ]


def ref_extract(documents: list[str | None], source_ip: str | None) -> list[str]:
    text = " ".join(d for d in documents if d is not None)
    found = {ref_normalize(c) for c in [*ref_candidates(text), source_ip]}
    return sorted(found - {None})


def ref_most_specific_class(address: str | None) -> str | None:
    if address is None:
        return None
    ip = ipaddress.ip_address(address)
    containing = [
        (net.prefixlen, cls) for net, cls in CLASSES if ip.version == net.version and ip in net
    ]
    return max(containing)[1] if containing else None


def ref_source_ip_class(source: str | None) -> str | None:
    if source is None:
        return None
    if source == "AWS Internal" or source.lower().endswith(".amazonaws.com"):
        return "aws_service"
    address = ref_normalize(source)
    if address is None:
        return None
    return ref_most_specific_class(address) or "public"


def ref_in_cidr(address: str | None, cidr: str) -> bool | None:
    if address is None:
        return None
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    ip = ipaddress.ip_address(address)
    return ip.version == network.version and ip in network


def ref_prefix_length(cidr: str) -> int:
    _, slash, length = cidr.partition("/")
    if slash and re.fullmatch(r"[0-9]+", length):
        return int(length)
    return 128 if ":" in cidr else 32


def document_strings(value: object) -> Iterator[str]:
    """Every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from document_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from document_strings(item)


def record_documents(record: dict) -> list[str | None]:
    documents = [" ".join(document_strings(record.get(f))) for f in SEARCHED_DOCUMENTS]
    return [*documents, record.get("errorMessage")]


# -- the macros, compiled once -------------------------------------------------------------

PROBE = """
select
    id,
    {{ normalize_ip('c') }} as n,
    {{ extract_ips(['t', 'u'], 's') }} as ips,
    {{ ip_in_cidr('a', 'net') }} as in_net,
    {{ cidr_prefix_length('net') }} as prefix_length,
    (
        select max_by(ip_classes.ip_class, {{ cidr_prefix_length('ip_classes.cidr') }})
        from ip_classes
        where {{ ip_in_cidr('candidates.a', 'ip_classes.cidr') }}
    ) as a_class
from candidates
"""


@pytest.fixture(scope="session")
def probe_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    ws = Workspace.create(tmp_path_factory.mktemp("dbt-compile"))
    sql = compile_inline(ws, PROBE, "--target", "lint").strip()
    assert sql.lower().startswith("select") and "{{" not in sql, sql[:500]
    return sql


@dataclass
class Probe:
    c: str | None = None
    t: str | None = None
    u: str | None = None
    s: str | None = None
    a: str | None = None
    net: str = "0.0.0.0/0"


class Harness:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.con = duckdb.connect()
        load_extension(self.con, "inet")
        self.con.execute(
            "create table ip_classes as select * from read_csv("
            f"{sql_string(str(SEED))}, header = true, all_varchar = true)"
        )

    def run(self, probes: list[Probe]) -> list[tuple]:
        columns = {f: [getattr(p, f) for p in probes] for f in ("c", "t", "u", "s", "a", "net")}
        self.con.execute(
            "create or replace temp table candidates as select "
            "unnest(range(?)) as id, unnest(?::varchar[]) as c, unnest(?::varchar[]) as t, "
            "unnest(?::varchar[]) as u, unnest(?::varchar[]) as s, "
            "unnest(?::varchar[]) as a, unnest(?::varchar[]) as net",
            [len(probes), *columns.values()],
        )
        rows = self.con.execute(f"select * from ({self.sql}) order by id").fetchall()
        assert [r[0] for r in rows] == list(range(len(probes)))
        return [r[1:] for r in rows]


@pytest.fixture(scope="session")
def harness(probe_sql: str) -> Harness:
    return Harness(probe_sql)


# -- strategies -----------------------------------------------------------------------------

SPECIAL_V4 = [ipaddress.IPv4Network(n) for n in ("0.0.0.0/8", "255.255.255.0/24")] + [
    n for n, _ in CLASSES if n.version == 4
]
SPECIAL_V6 = [
    ipaddress.IPv6Network(n)
    for n in (
        "::/120",  # "::", "::1", ...
        "::/96",  # IPv4-compatible: inet prints these dotted
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",
        "2001:db8::/32",
        "::1:0:0:0/96",
        "::fffe:0:0/96",
        "fe80::/10",
        "fc00::/7",
    )
] + [n for n, _ in CLASSES if n.version == 6]


def _in(network_strategy, random_bits):
    return st.builds(
        lambda net, bits: type(net.network_address)(
            int(net.network_address) | (bits & int(net.hostmask))
        ),
        network_strategy,
        random_bits,
    )


def _edges(networks) -> list:
    """First and last address of each network, and their neighbours."""
    edges = set()
    for net in networks:
        kind, top = type(net.network_address), 2**net.max_prefixlen - 1
        for value in (int(net.network_address), int(net.broadcast_address)):
            edges |= {kind(v) for v in (value - 1, value, value + 1) if 0 <= v <= top}
    return sorted(edges)


_edge_v4 = _edges(SPECIAL_V4)
_edge_v6 = _edges(SPECIAL_V6)

ipv4_addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address),
    _in(st.sampled_from(SPECIAL_V4), st.integers(0, 2**32 - 1)),
    st.sampled_from(_edge_v4),
)

# Hextets biased to zeros and ffff, so "::" runs and mapped/compatible forms are common.
_hextet = st.one_of(st.just(0), st.just(0xFFFF), st.integers(0, 0xFF), st.integers(0, 0xFFFF))
ipv6_addresses = st.one_of(
    st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address),
    st.lists(_hextet, min_size=8, max_size=8).map(
        lambda groups: ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
    ),
    _in(st.sampled_from(SPECIAL_V6), st.integers(0, 2**128 - 1)),
    st.sampled_from(_edge_v6),
    ipv4_addresses.map(lambda a: ipaddress.IPv6Address(0xFFFF_0000_0000 | int(a))),
)


@st.composite
def ipv6_texts(draw, addresses=ipv6_addresses) -> str:
    """Any valid textual form of an IPv6 address: padded or not, any "::" run, any case,
    with or without a dotted IPv4 tail."""
    value = int(draw(addresses))
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    tail: list[str] = []
    if draw(st.booleans()):
        groups = groups[:6]
        tail = [str(ipaddress.IPv4Address(value & 0xFFFF_FFFF))]
    padded = draw(st.sampled_from(["none", "all", "some"]))
    words = [
        f"{g:04x}" if padded == "all" or (padded == "some" and draw(st.booleans())) else f"{g:x}"
        for g in groups
    ]
    runs = [
        (i, j)
        for i in range(len(groups))
        for j in range(i + 1, len(groups) + 1)
        if not any(groups[i:j])
    ]
    run = draw(st.sampled_from(runs)) if runs and draw(st.booleans()) else None
    if run is None:
        text = ":".join(words + tail)
    else:
        i, j = run
        text = ":".join(words[:i]) + "::" + ":".join(words[j:] + tail)
    case = draw(st.sampled_from(["lower", "upper", "mixed"]))
    if case == "upper":
        text = text.upper()
    elif case == "mixed":
        text = "".join(ch.upper() if draw(st.booleans()) else ch for ch in text)
    return text


ip_texts = st.one_of(ipv4_addresses.map(str), ipv6_texts())

JUNK = [
    "12:34:56",
    "2024-08-02T08:53:24Z",
    "2024-07-30T21:57:15.000+0000",
    "arn:aws:iam::123456789012:user/x",
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:s3:::bucket/key",
    "arn:aws:lambda:us-east-1::runtime:abc",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
    "1.2.3",
    "1.2.3.4.5",
    "Chrome/128.0.0.0",
    "aws-cli/2.17.12 Python/3.11.9",
    "01.2.3.4",
    "1.2.3.04",
    "256.1.1.1",
    "1.2.3.256",
    "999.999.999.999",
    "::ffff:01.2.3.4",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    ":::",
    "12345::1",
    "fe80::1%eth0",
    "deadbeef",
    "AWS Internal",
    "ec2.amazonaws.com",
    "a.b.c.d",
    "",
]
SEPARATORS = [" ", ", ", '", "', "/24 ", ":443 ", "\n", "\t", " [", "] ", "(", ")", "=", ";"]
SEPARATORS += ["", ".", "-", "_", "x", "g", "/", "'", "|", "#", ":"]
junk = st.one_of(
    st.sampled_from(JUNK),
    st.text(alphabet="0123456789abcdefABCDEF:. /,x", max_size=24),
)
tokens = st.lists(st.one_of(ip_texts, ip_texts, junk), max_size=6)


@st.composite
def texts(draw) -> str:
    parts = draw(tokens)
    text = draw(st.sampled_from(SEPARATORS))
    for part in parts:
        text += part + draw(st.sampled_from(SEPARATORS))
    if draw(st.integers(0, 4)) == 0:
        text = json.dumps({"sourceIPAddress": parts[:1], "nested": {"ips": parts[1:]}})
    return text


def _network_text(address, prefix: int | None) -> str:
    return str(address) if prefix is None else f"{address}/{prefix}"


networks = st.one_of(
    st.sampled_from([str(n) for n, _ in CLASSES]),
    st.builds(_network_text, ipv4_addresses, st.one_of(st.none(), st.integers(0, 32), st.just(33))),
    st.builds(
        _network_text,
        ipv6_addresses,
        st.one_of(st.none(), st.integers(0, 128), st.just(129)),
    ),
)

probes = st.builds(
    Probe,
    c=st.one_of(ip_texts, junk),
    t=st.one_of(st.none(), texts()),
    u=st.one_of(st.none(), texts()),
    s=st.one_of(st.none(), ip_texts, junk),
    # as the model does: an address is normalized before classification
    a=st.one_of(st.none(), ipv4_addresses, ipv6_addresses).map(
        lambda a: None if a is None else ref_normalize(str(a))
    ),
    net=networks,
)

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- properties of the compiled macros -------------------------------------------------------


@PROPERTY
@given(batch=st.lists(probes, min_size=1, max_size=25))
def test_macros_match_the_reference(harness: Harness, batch: list[Probe]) -> None:
    for probe, (n, ips, in_net, prefix_length, a_class) in zip(
        batch, harness.run(batch), strict=True
    ):
        assert n == ref_normalize(probe.c), probe.c
        assert ips == ref_extract([probe.t, probe.u], probe.s), probe
        assert in_net == ref_in_cidr(probe.a, probe.net), probe
        assert prefix_length == ref_prefix_length(probe.net), probe.net
        assert a_class == ref_most_specific_class(probe.a), probe.a


@PROPERTY
@given(address=ipv6_addresses, data=st.data())
def test_every_textual_form_of_an_address_normalizes_the_same(
    harness: Harness, address: ipaddress.IPv6Address, data: st.DataObject
) -> None:
    rendered = data.draw(st.lists(ipv6_texts(st.just(address)), min_size=1, max_size=8))
    forms = [*rendered, address.compressed, address.exploded, address.exploded.upper()]
    if address.ipv4_mapped is not None:
        forms += [f"::ffff:{address.ipv4_mapped}", f"::FFFF:{address.ipv4_mapped}"]
    expected = str(address.ipv4_mapped) if address.ipv4_mapped else address.compressed
    results = harness.run([Probe(c=f, t=f"ip={f}", s=f) for f in forms])
    for form, (n, ips, *_rest) in zip(forms, results, strict=True):
        assert n == expected, form
        # a dotted tail is also an IPv4 literal of its own
        tail = [form.rsplit(":", 1)[1]] if "." in form else []
        assert ips == sorted({expected, *tail}), form


@PROPERTY
@given(address=st.one_of(ipv4_addresses, ipv6_addresses), data=st.data())
def test_an_address_is_found_whatever_surrounds_it(
    harness: Harness, address: ipaddress._BaseAddress, data: st.DataObject
) -> None:
    expected = ref_normalize(str(address))
    forms = [str(address)]
    if address.version == 6:
        forms.append(address.exploded.upper())
    else:
        forms.append(f"::ffff:{address}")
    templates = [
        "{}",
        "from {} to nowhere",
        '{{"ip":"{}"}}',
        "{},10.9.8.7",
        "{}/24",
        "[{}]:443",
        "({}) ",
        "'{}'",
        "x-forwarded-for: {}, 203.0.113.1",
    ]
    if address.version == 4:
        templates += ["{}:443", "host={}:8080/path"]
    probes_ = [Probe(t=template.format(f)) for f in forms for template in templates]
    for probe, (_n, ips, *_rest) in zip(probes_, harness.run(probes_), strict=True):
        assert expected in ips, probe.t
        assert ips == ref_extract([probe.t], None), probe.t


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chrome/128.0.0.0 Safari/537.36", ["128.0.0.0"]),  # why userAgent is never searched
        ("at 12:34:56 on 2024-08-02T08:53:24Z", []),
        ("arn:aws:iam::123456789012:user/x", []),
        ("version 1.2.3 and 1.2.3.4.5 and 1.2.3.4.", ["1.2.3.4"]),
        ("01.2.3.4 1.02.3.4 256.1.1.1 1.2.3.256", []),
        ("10.0.0.1,10.0.0.2 10.0.0.1", ["10.0.0.1", "10.0.0.2"]),
        ("::FFFF:10.1.2.3 and 10.1.2.3", ["10.1.2.3"]),
        ("2001:DB8:0:0:0:0:0:1 2001:db8::1 2001:0db8::0001", ["2001:db8::1"]),
        ("::1.2.3.4", ["1.2.3.4", "::102:304"]),
        ("fe80::1%eth0", ["fe80::1"]),
        ("1:2:3:4:5:6:7:8:9 1::2::3 12345::1", []),
        ("[2001:db8::7]:443", ["2001:db8::7"]),
        ("2001:db8:0:0:1:0:0:1", ["2001:db8::1:0:0:1"]),
        ("1:0:0:1:0:0:0:1", ["1:0:0:1::1"]),
        ("1:2:3:4:5:6:7::", ["1:2:3:4:5:6:7:0"]),
    ],
)
def test_extraction_examples(harness: Harness, text: str, expected: list[str]) -> None:
    (result,) = harness.run([Probe(t=text)])
    assert result[1] == expected
    assert ref_extract([text], None) == expected  # the reference agrees with the examples


@pytest.mark.parametrize(
    ("cidr", "length"),
    [("10.0.0.0/8", 8), ("::1/128", 128), ("10.1.2.3", 32), ("fe80::1", 128), ("1.2.3.0/", 32)],
)
def test_cidr_prefix_length(harness: Harness, cidr: str, length: int) -> None:
    (result,) = harness.run([Probe(net=cidr)])
    assert result[3] == length


@pytest.mark.parametrize(
    ("probe", "column", "expected"),
    [
        pytest.param(
            Probe(c="::ffff:0:1.2.3.4"),
            0,
            "::ffff:0:102:304",
            id="normalize-translated-dotted",
        ),
        pytest.param(
            Probe(c="::ffff:0:a01:203"),
            0,
            "::ffff:0:a01:203",
            id="normalize-translated-hex",
        ),
        pytest.param(
            Probe(t="peer ::ffff:0:a01:203 blocked"),
            1,
            ["::ffff:0:a01:203"],
            id="extract-translated",
        ),
        pytest.param(
            Probe(c=":1::2"),
            0,
            None,
            id="normalize-leading-colon",
        ),
        pytest.param(
            Probe(c="1:2:3:4:5:6:7:8:"),
            0,
            None,
            id="normalize-trailing-colon",
        ),
        pytest.param(
            Probe(t="route to 2001:db8::5: unreachable"),
            1,
            [],
            id="extract-trailing-colon",
        ),
        pytest.param(
            Probe(t="host:2001:db8::1"),
            1,
            [],
            id="extract-leading-colon",
        ),
        pytest.param(
            Probe(c="2001:db8::/32"),
            0,
            None,
            id="normalize-cidr",
        ),
        pytest.param(
            Probe(s="::1/128"),
            1,
            [],
            id="extract-source-cidr",
        ),
    ],
)
def test_edge_cases_found_by_the_properties(
    harness: Harness, probe: Probe, column: int, expected
) -> None:
    """IPv4-translated addresses, stray colons and prefix lengths, which inet alone gets wrong."""
    if column == 0:
        assert ref_normalize(probe.c) == expected
    else:
        assert ref_extract([probe.t], probe.s) == expected
    (result,) = harness.run([probe])
    assert result[column] == expected


# -- end to end: the model, on the lake dbt builds --------------------------------------------

EXTRACTION_RECORD = cloudtrail_record(
    "ips-extraction",
    sourceIPAddress="2001:DB8:0:0:0:0:0:AB",
    userAgent="Mozilla/5.0 (X11) Chrome/128.0.0.0 Safari/537.36 via 192.0.2.200",
    requestParameters={
        "cidrIp": "198.51.100.0/24",
        "host": "10.0.0.5:8443",
        "peers": ["::ffff:172.16.0.9", "fe80::1", "01.2.3.4", "256.1.1.1", "1.2.3.4.5"],
        "time": "12:34:56",
        "roleArn": "arn:aws:iam::123456789012:role/x",
    },
    responseElements={
        "privateIpAddress": "10.0.0.5",
        "ipv6Address": "2001:0db8:0000:0000:0000:0000:0000:0001",
    },
    additionalEventData={"x-forwarded-for": "203.0.113.7, 203.0.113.8"},
    resources=[{"ARN": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"}],
    serviceEventDetails={"note": "from 192.0.2.44"},
    errorMessage="Connection to 198.51.100.23:443 refused",
    tlsDetails={"clientProvidedHostHeader": "192.0.2.99"},  # not searched
    vpcEndpointId="vpce-192.0.2.98",  # not searched
)
EXTRACTION_EXPECTED = [
    "10.0.0.5",
    "172.16.0.9",
    "192.0.2.44",
    "198.51.100.0",
    "198.51.100.23",
    "2001:db8::1",
    "2001:db8::ab",
    "203.0.113.7",
    "203.0.113.8",
    "fe80::1",
]

# sourceIPAddress -> (source_ip, source_ip_class)
CLASS_CASES = {
    "::ffff:10.1.2.3": ("10.1.2.3", "private"),
    "::FFFF:127.0.0.1": ("127.0.0.1", "loopback"),
    "::ffff:8.8.8.8": ("8.8.8.8", "public"),
    "100.64.0.1": ("100.64.0.1", "private"),
    "100.127.255.255": ("100.127.255.255", "private"),
    "100.63.255.255": ("100.63.255.255", "public"),
    "100.128.0.1": ("100.128.0.1", "public"),
    "10.0.0.0": ("10.0.0.0", "private"),
    "172.31.255.255": ("172.31.255.255", "private"),
    "172.32.0.0": ("172.32.0.0", "public"),
    "192.168.1.1": ("192.168.1.1", "private"),
    "169.254.169.254": ("169.254.169.254", "link_local"),
    "127.0.0.1": ("127.0.0.1", "loopback"),
    "8.8.8.8": ("8.8.8.8", "public"),
    "0.0.0.0": ("0.0.0.0", "public"),
    "fe80::1": ("fe80::1", "link_local"),
    "FE80:0:0:0:0:0:0:1": ("fe80::1", "link_local"),
    "febf:ffff::1": ("febf:ffff::1", "link_local"),
    "fec0::1": ("fec0::1", "public"),
    "fd12:3456::1": ("fd12:3456::1", "private"),
    "fbff:ffff::1": ("fbff:ffff::1", "public"),
    "::1": ("::1", "loopback"),
    "::": ("::", "public"),
    "2001:db8::1": ("2001:db8::1", "public"),
    "ec2.amazonaws.com": (None, "aws_service"),
    "EC2.AmazonAWS.com": (None, "aws_service"),
    "AWS Internal": (None, "aws_service"),
    "aws internal": (None, None),
    "amazonaws.com": (None, None),
    "01.2.3.4": (None, None),
    "10.1.2.3/32": (None, None),
    "": (None, None),
}
# Forms inet alone gets wrong (see test_edge_cases_found_by_the_properties).
EDGE_CLASS_CASES = {
    "::1/128": (None, None),
    ":1::2": (None, None),
    "::ffff:0:a01:203": ("::ffff:0:a01:203", "public"),
}
CRAFTED = [
    EXTRACTION_RECORD,
    cloudtrail_record("ips-no-source", sourceIPAddress=None),
    *(
        cloudtrail_record(f"ips-class-{n}", sourceIPAddress=source)
        for n, source in enumerate(CLASS_CASES)
    ),
    *(
        cloudtrail_record(f"ips-edge-{n}", sourceIPAddress=source)
        for n, source in enumerate(EDGE_CLASS_CASES)
    ),
]


@dataclass
class LakeRow:
    event_id: str
    raw: str
    source_ip_address: str | None
    source_ip: str | None
    ips: list[str]
    source_ip_class: str | None


@pytest.fixture(scope="module")
def lake_rows(
    demo_lake: Workspace, stratus_lake: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, LakeRow]:
    """Every row of the demo lake, and of the Stratus lake with the crafted records added."""
    ws = stratus_lake.copy(tmp_path_factory.mktemp("ips-lake") / "ws")
    crafted = write_delivery_file(ws.root / "crafted.json.gz", CRAFTED)
    run_ingest(ws, "load", "cloudtrail", crafted)
    run_dbt(ws, *BUILD, "--select", "cloudtrail_events")
    query = (
        "select event_id, raw, source_ip_address, source_ip, ips, source_ip_class "
        "from cloudtrail_events"
    )
    return {row[0]: LakeRow(*row) for lake in (demo_lake, ws) for row in lake.read(query)}


@pytest.mark.e2e
def test_every_lake_row_matches_the_reference(lake_rows: dict[str, LakeRow]) -> None:
    compared = 0
    for row in lake_rows.values():
        record = json.loads(row.raw)
        source = record.get("sourceIPAddress")
        assert row.source_ip_address == source, row.event_id
        assert row.source_ip == ref_normalize(source), row.event_id
        assert row.ips == ref_extract(record_documents(record), source), row.event_id
        assert row.source_ip_class == ref_source_ip_class(source), row.event_id
        compared += 1
    assert compared >= 3000


@pytest.mark.e2e
def test_the_lake_is_a_non_trivial_sample(lake_rows: dict[str, LakeRow]) -> None:
    rows = list(lake_rows.values())
    all_ips = {ip for row in rows for ip in row.ips}
    assert sum(len(row.ips) > 1 for row in rows) >= 5
    assert "2001:db8:4f2a:10::1c" in all_ips  # the demo's IPv6 caller
    assert sum(":" in ip for ip in all_ips) >= 2
    assert sum(":" not in ip for ip in all_ips) >= 20
    classes = {row.source_ip_class for row in rows}
    assert {"public", "private", "aws_service", None} <= classes
    # Stratus callers with leading-zero octets are not addresses: no source_ip, no class
    stratus = [row for row in rows if row.source_ip_address == "253.252.51.07"]
    assert stratus
    assert all((r.source_ip, r.source_ip_class) == (None, None) for r in stratus)


@pytest.mark.e2e
def test_documents_are_searched_but_the_user_agent_is_not(
    lake_rows: dict[str, LakeRow],
) -> None:
    row = lake_rows["ips-extraction"]
    assert row.ips == EXTRACTION_EXPECTED
    assert (row.source_ip, row.source_ip_class) == ("2001:db8::ab", "public")
    assert ref_extract(record_documents(json.loads(row.raw)), "2001:DB8:0:0:0:0:0:AB") == (
        EXTRACTION_EXPECTED
    )
    none = lake_rows["ips-no-source"]
    assert (none.source_ip_address, none.source_ip, none.source_ip_class) == (None, None, None)


@pytest.mark.parametrize("source", list(CLASS_CASES))
@pytest.mark.e2e
def test_source_ip_class(lake_rows: dict[str, LakeRow], source: str) -> None:
    row = lake_rows[f"ips-class-{list(CLASS_CASES).index(source)}"]
    assert row.source_ip_address == source
    assert (row.source_ip, row.source_ip_class) == CLASS_CASES[source]
    assert (ref_normalize(source), ref_source_ip_class(source)) == CLASS_CASES[source]


@pytest.mark.parametrize("source", list(EDGE_CLASS_CASES))
@pytest.mark.e2e
def test_source_ip_class_edge_cases(lake_rows: dict[str, LakeRow], source: str) -> None:
    row = lake_rows[f"ips-edge-{list(EDGE_CLASS_CASES).index(source)}"]
    assert (ref_normalize(source), ref_source_ip_class(source)) == EDGE_CLASS_CASES[source]
    assert (row.source_ip, row.source_ip_class) == EDGE_CLASS_CASES[source]
