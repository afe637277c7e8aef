{% macro parse_utc_timestamp(expression) %}
    {#- An ISO-8601 string (CloudTrail's `2024-08-02T08:53:24Z`) as a UTC timestamp. -#}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__parse_utc_timestamp(expression) -%}
    cast({{ expression }} as timestamptz)
{%- endmacro %}


{% macro utc_date(timestamp) %}
    {#- The UTC calendar date of a timestamp, whatever the session time zone. -#}
    {{ return(adapter.dispatch('utc_date', 'trailhouse')(timestamp)) }}
{% endmacro %}

{% macro duckdb__utc_date(timestamp) -%}
    cast(timezone('UTC', {{ timestamp }}) as date)
{%- endmacro %}


{% macro utc_part(part, timestamp) %}
    {#- `year`, `month`, `day` or `hour` of a timestamp in UTC, whatever the session zone. -#}
    {{ return(adapter.dispatch('utc_part', 'trailhouse')(part, timestamp)) }}
{% endmacro %}

{% macro duckdb__utc_part(part, timestamp) -%}
    cast(date_part('{{ part }}', timezone('UTC', {{ timestamp }})) as integer)
{%- endmacro %}
