"""Optional GeoIP enrichment: `ingest.geoip.GeoIP`, the plugin's UDFs, and the lake's
`source_country` / `source_asn` columns, over small MaxMind databases written here."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import duckdb
import maxminddb
import pytest

from ingest.dbt_plugin import Plugin
from ingest.geoip import ENV, GeoIP

from conftest import (
    BUILD,
    Workspace,
    cloudtrail_record,
    run_dbt,
    run_ingest,
    write_delivery_file,
    write_mmdb,
)

NL_NET, NL_IP = "91.240.118.0/24", "91.240.118.172"
DE_NET, DE_IP = "45.142.214.0/24", "45.142.214.19"
PRIVATE_IP = "10.20.1.34"


@pytest.fixture(scope="module")
def mmdb(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("mmdb")
    country = write_mmdb(
        root / "country.mmdb",
        "GeoLite2-Country",
        {NL_NET: {"country": {"iso_code": "NL"}}, DE_NET: {"country": {"iso_code": "DE"}}},
    )
    asn = write_mmdb(
        root / "asn.mmdb",
        "GeoLite2-ASN",
        {NL_NET: {"autonomous_system_number": 64500, "autonomous_system_organization": "Example"}},
    )
    return SimpleNamespace(country=country, asn=asn, root=root)


# -- the fixture itself -----------------------------------------------------------------------


def test_fixture_databases_read_back_with_maxminddb(mmdb: SimpleNamespace) -> None:
    with maxminddb.open_database(str(mmdb.country)) as reader:
        meta = reader.metadata()
        assert (meta.ip_version, meta.database_type) == (6, "GeoLite2-Country")
        assert reader.get_with_prefix_len(NL_IP) == ({"country": {"iso_code": "NL"}}, 24)
        assert reader.get_with_prefix_len(DE_IP) == ({"country": {"iso_code": "DE"}}, 24)
        assert reader.get(PRIVATE_IP) is None
    with maxminddb.open_database(str(mmdb.asn)) as reader:
        assert reader.metadata().database_type == "GeoLite2-ASN"
        assert reader.get(NL_IP) == {
            "autonomous_system_number": 64500,
            "autonomous_system_organization": "Example",
        }
        assert reader.get(DE_IP) is None


# -- GeoIP --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        (NL_IP, ("NL", 64500)),
        (DE_IP, ("DE", None)),
        ("10.0.0.1", (None, None)),
        ("ec2.amazonaws.com", (None, None)),
        ("not an address", (None, None)),
        ("2001:db8::1", (None, None)),
        (None, (None, None)),
        ("", (None, None)),
    ],
)
def test_country_and_asn_of_an_address(mmdb: SimpleNamespace, ip, expected) -> None:
    geo = GeoIP([mmdb.country, mmdb.asn])
    assert (geo.country(ip), geo.asn(ip)) == expected
    # The order of the databases does not matter, and a second (cached) lookup agrees.
    other = GeoIP([mmdb.asn, mmdb.country])
    assert (other.country(ip), other.asn(ip)) == expected
    assert (other.country(ip), other.asn(ip)) == expected


def test_from_env(mmdb: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert GeoIP.from_env() is None
    monkeypatch.setenv(ENV, "")
    assert GeoIP.from_env() is None
    monkeypatch.setenv(ENV, f"{mmdb.country}{os.pathsep}{mmdb.asn}")
    geo = GeoIP.from_env()
    assert geo is not None and len(geo.readers) == 2
    assert (geo.country(NL_IP), geo.asn(NL_IP)) == ("NL", 64500)


def test_a_missing_database_is_a_clear_error(mmdb: SimpleNamespace, tmp_path: Path) -> None:
    missing = tmp_path / "GeoLite2-ASN.mmdb"
    with pytest.raises(FileNotFoundError) as raised:
        GeoIP([mmdb.country, missing])
    message = str(raised.value)
    assert ENV in message and str(missing) in message
    assert str(mmdb.country) not in message  # only the missing file is named
    with pytest.raises(FileNotFoundError, match="no such file"):
        GeoIP([tmp_path])  # a directory is not a database


def test_an_ipv4_only_database_does_not_hide_another_databases_answer(tmp_path: Path) -> None:
    country = write_mmdb(
        tmp_path / "country.mmdb",
        "GeoLite2-Country",
        {"2001:db8::/32": {"country": {"iso_code": "NL"}}},
    )
    asn = write_mmdb(
        tmp_path / "asn4.mmdb",
        "GeoLite2-ASN",
        {NL_NET: {"autonomous_system_number": 64500}},
        ip_version=4,
    )
    geo = GeoIP([country, asn])
    assert (geo.country(NL_IP), geo.asn(NL_IP)) == (None, 64500)  # IPv4 works either way
    assert geo.country("2001:db8::1") == "NL"


# -- the dbt plugin's UDFs ----------------------------------------------------------------------


def plugin_connection(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    plugin = Plugin(
        name="dbt_plugin",
        plugin_config={},
        credentials=SimpleNamespace(external_root=str(tmp_path / "lake")),
    )
    con = duckdb.connect()
    plugin.configure_connection(con)
    return con


def test_plugin_registers_no_udfs_without_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    con = plugin_connection(tmp_path)
    for udf in ("trailhouse_geoip_country", "trailhouse_geoip_asn"):
        with pytest.raises(duckdb.CatalogException, match=udf):
            con.sql(f"select {udf}('{NL_IP}')")


def test_plugin_udfs_look_up_known_addresses(
    mmdb: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, f"{mmdb.country}{os.pathsep}{mmdb.asn}")
    con = plugin_connection(tmp_path)
    assert con.sql(
        f"select trailhouse_geoip_country('{NL_IP}'), trailhouse_geoip_asn('{NL_IP}'), "
        f"trailhouse_geoip_country('{DE_IP}'), "
        "trailhouse_geoip_country(null), trailhouse_geoip_asn(null)"
    ).fetchone() == ("NL", 64500, "DE", None, None)


def test_plugin_udfs_are_null_for_addresses_the_databases_do_not_know(
    mmdb: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, f"{mmdb.country}{os.pathsep}{mmdb.asn}")
    con = plugin_connection(tmp_path)
    got = con.sql(
        "select ip, trailhouse_geoip_country(ip), trailhouse_geoip_asn(ip) from (values "
        f"('{NL_IP}'), ('{DE_IP}'), ('{PRIVATE_IP}'), ('ec2.amazonaws.com')) as t(ip) "
        "order by ip"
    ).fetchall()
    assert got == [
        (PRIVATE_IP, None, None),
        (DE_IP, "DE", None),
        (NL_IP, "NL", 64500),
        ("ec2.amazonaws.com", None, None),
    ]


def test_a_four_byte_asn_above_2_31_does_not_fail_the_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asn = write_mmdb(
        tmp_path / "asn.mmdb", "GeoLite2-ASN", {NL_NET: {"autonomous_system_number": 4200000001}}
    )
    monkeypatch.setenv(ENV, str(asn))
    con = plugin_connection(tmp_path)
    assert con.sql(f"select trailhouse_geoip_asn('{NL_IP}')").fetchone() == (4200000001,)


# -- end to end ---------------------------------------------------------------------------------


# sourceIPAddress -> (source_ip, source_country, source_asn) in the lake, with the databases
CALLERS = {
    NL_IP: (NL_IP, "NL", 64500),
    DE_IP: (DE_IP, "DE", None),
    PRIVATE_IP: (PRIVATE_IP, None, None),
    "ec2.amazonaws.com": (None, None, None),  # no address: the UDFs are never called
}


@pytest.mark.e2e
def test_dbt_build_enriches_the_lake_and_unsetting_the_databases_rebuilds_it(
    mmdb: SimpleNamespace, tmp_path: Path
) -> None:
    callers = list(CALLERS)
    ws = Workspace.create(tmp_path)
    ws.env.pop(ENV, None)
    delivery = write_delivery_file(
        tmp_path / "geo.json.gz",
        [
            cloudtrail_record(f"geo-{n}", when=f"2026-03-01T10:0{n}:00Z", sourceIPAddress=ip)
            for n, ip in enumerate(callers)
        ],
    )
    run_ingest(ws, "load", "cloudtrail", str(delivery))

    def build(extra: dict[str, str]) -> str:
        out = run_dbt(ws.with_env(**extra), *BUILD)
        assert " ERROR=0 " in out and " WARN=0 " in out, out[-4000:]
        return out

    def lake_rows() -> dict[str, tuple]:
        query = "select source_ip_address, source_ip, source_country, source_asn from "
        found = ws.read(query + "cloudtrail_events")
        assert len(found) == len(callers)
        return {row[0]: row[1:] for row in found}

    def lake_types() -> dict[str, str]:
        query = "describe select source_country, source_asn from cloudtrail_events"
        return {row[0]: row[1] for row in ws.read(query)}

    enriched = build({ENV: f"{mmdb.country}{os.pathsep}{mmdb.asn}"})
    assert "cloudtrail_events: rebuilt 1, merged 0, removed 0 of 1 partition(s)" in enriched
    assert lake_rows() == {ip: CALLERS[ip] for ip in callers}
    types = lake_types()
    assert types["source_country"] == "VARCHAR"
    assert types["source_asn"] in ("INTEGER", "UINTEGER", "BIGINT", "UBIGINT")

    # Without the databases the lookups are NULL constants: the SQL changed, so the partition
    # is rebuilt (no UDF registered, none called), with the same columns and types.
    plain = build({})
    assert "cloudtrail_events: rebuilt 1, merged 0, removed 0 of 1 partition(s)" in plain
    assert lake_rows() == {ip: (CALLERS[ip][0], None, None) for ip in callers}
    assert lake_types() == types
