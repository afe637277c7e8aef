{% macro regex_extract(expression, pattern, group=0) %}
    {#- The first match of an RE2 pattern (or one capture group of it); NULL if none. -#}
    {{ return(adapter.dispatch('regex_extract', 'trailhouse')(expression, pattern, group)) }}
{% endmacro %}

{% macro duckdb__regex_extract(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}


{% macro url_decode(expression) %}
    {#- Percent-decoding (`%2e` → `.`, `+` stays `+`); text that does not decode to UTF-8
        (attackers send such bytes) stays as it was instead of failing the build. -#}
    {{ return(adapter.dispatch('url_decode', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__url_decode(expression) -%}
    coalesce(try(url_decode({{ expression }})), {{ expression }})
{%- endmacro %}
