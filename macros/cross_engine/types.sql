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


{#- A seed's text column, NULL where the CSV cell is empty: dbt-spark loads an empty cell of a
    string column as the text 'None', where dbt-duckdb loads NULL. -#}
{% macro seed_text(column) %}
    {{ return(adapter.dispatch('seed_text', 'trailhouse')(column)) }}
{% endmacro %}

{% macro duckdb__seed_text(column) -%}
    {{ column }}
{%- endmacro %}

{% macro spark__seed_text(column) -%}
    nullif({{ column }}, 'None')
{%- endmacro %}
