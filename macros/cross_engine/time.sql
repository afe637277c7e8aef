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


{% macro spark__parse_utc_timestamp(expression) -%}
    cast({{ expression }} as timestamp)
{%- endmacro %}

{#- The spark profile pins the session zone to UTC, so a date is the UTC date. -#}
{% macro spark__utc_date(timestamp) -%}
    cast({{ timestamp }} as date)
{%- endmacro %}

{% macro spark__utc_part(part, timestamp) -%}
    cast(date_part('{{ part }}', {{ timestamp }}) as integer)
{%- endmacro %}


{#- Start of the fixed `minutes`-long window holding `timestamp` (windows tile each UTC day). -#}
{% macro window_start(timestamp, minutes) %}
    {{ return(adapter.dispatch('window_start', 'trailhouse')(timestamp, minutes)) }}
{% endmacro %}

{% macro duckdb__window_start(timestamp, minutes) -%}
    to_timestamp(floor(epoch({{ timestamp }}) / {{ minutes * 60 }}) * {{ minutes * 60 }})
{%- endmacro %}

{% macro spark__window_start(timestamp, minutes) -%}
    timestamp_seconds(floor(unix_seconds({{ timestamp }}) / {{ minutes * 60 }}) * {{ minutes * 60 }})
{%- endmacro %}


{#- Milliseconds since the Unix epoch (OCSF's timestamps). -#}
{% macro epoch_milliseconds(timestamp) %}
    {{ return(adapter.dispatch('epoch_milliseconds', 'trailhouse')(timestamp)) }}
{% endmacro %}

{% macro duckdb__epoch_milliseconds(timestamp) -%}
    epoch_ms({{ timestamp }})
{%- endmacro %}

{% macro spark__epoch_milliseconds(timestamp) -%}
    unix_millis({{ timestamp }})
{%- endmacro %}


{#- A timestamp as text, the same on every engine (alert ids hash it): DuckDB's own form. -#}
{% macro timestamp_text(timestamp) %}
    {{ return(adapter.dispatch('timestamp_text', 'trailhouse')(timestamp)) }}
{% endmacro %}

{% macro duckdb__timestamp_text(timestamp) -%}
    cast({{ timestamp }} as string)
{%- endmacro %}

{% macro spark__timestamp_text(timestamp) -%}
    date_format({{ timestamp }}, 'yyyy-MM-dd HH:mm:ss') || '+00'
{%- endmacro %}


{#- A date `days` days after (before, when negative) the date `date`. -#}
{% macro date_add_days(date, days) %}
    {{ return(adapter.dispatch('date_add_days', 'trailhouse')(date, days)) }}
{% endmacro %}

{% macro duckdb__date_add_days(date, days) -%}
    cast({{ date }} + ({{ days }}) as date)
{%- endmacro %}

{% macro spark__date_add_days(date, days) -%}
    date_add({{ date }}, {{ days }})
{%- endmacro %}
