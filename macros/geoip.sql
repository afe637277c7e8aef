{#
    GeoIP lookups through the ingest dbt plugin's UDFs, over the MaxMind databases listed in
    TRAILHOUSE_GEOIP_DB (one path, or several separated by ':', e.g. a Country and an ASN
    database). Unset, the lookups are NULL constants: no UDF call, nothing to install. Setting
    or changing it changes the SQL, so the lake is re-enriched on the next build. The UDFs are
    DuckDB's (the ingest plugin): on other engines the lookups are NULL.
#}

{% macro _geoip_enabled() -%}
    {{ return(target.type == 'duckdb' and env_var('TRAILHOUSE_GEOIP_DB', '') != '') }}
{%- endmacro %}

{% macro geoip_country(ip) -%}
    {%- if _geoip_enabled() -%}
        trailhouse_geoip_country({{ ip }})
    {%- else -%}
        cast(null as string)
    {%- endif -%}
{%- endmacro %}

{% macro geoip_asn(ip) -%}
    {%- if _geoip_enabled() -%}
        trailhouse_geoip_asn({{ ip }})
    {%- else -%}
        cast(null as bigint)
    {%- endif -%}
{%- endmacro %}
