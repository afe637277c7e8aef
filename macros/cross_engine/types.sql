{#
    Type names that differ between engines. Text is `string` everywhere (DuckDB reads it as
    VARCHAR; Spark has no unsized VARCHAR); integer, bigint, double, boolean and date are the
    same on every engine.
#}

{#- An instant: DuckDB's TIMESTAMPTZ; Spark's TIMESTAMP is one (shown in the session zone,
    which the spark profile pins to UTC). -#}
{% macro utc_timestamp_type() %}
    {{ return(adapter.dispatch('utc_timestamp_type', 'trailhouse')()) }}
{% endmacro %}

{% macro duckdb__utc_timestamp_type() -%}
    timestamptz
{%- endmacro %}

{% macro spark__utc_timestamp_type() -%}
    timestamp
{%- endmacro %}


{#- A JSON document: DuckDB's JSON type; text on Spark (its JSON functions read text). -#}
{% macro json_type() %}
    {{ return(adapter.dispatch('json_type', 'trailhouse')()) }}
{% endmacro %}

{% macro duckdb__json_type() -%}
    json
{%- endmacro %}

{% macro spark__json_type() -%}
    string
{%- endmacro %}
