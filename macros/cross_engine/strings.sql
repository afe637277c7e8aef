{% macro regex_extract(expression, pattern, group=0) %}
    {#- The first match of an RE2 pattern (or one capture group of it); NULL if none. -#}
    {{ return(adapter.dispatch('regex_extract', 'trailhouse')(expression, pattern, group)) }}
{% endmacro %}

{% macro duckdb__regex_extract(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}
