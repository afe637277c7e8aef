{% macro regex_extract(expression, pattern, group=0) %}
    {#- The first match of an RE2 pattern (or one capture group of it); NULL if none. -#}
    {{ return(adapter.dispatch('regex_extract', 'trailhouse')(expression, pattern, group)) }}
{% endmacro %}

{% macro duckdb__regex_extract(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, {{ sql_string(pattern) }}, {{ group }}), '')
{%- endmacro %}


{% macro url_decode(expression) %}
    {#- Percent-decoding (`%2e` → `.`, `+` stays `+`); text that does not decode to UTF-8
        (attackers send such bytes) stays as it was instead of failing the build. -#}
    {{ return(adapter.dispatch('url_decode', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__url_decode(expression) -%}
    coalesce(try(url_decode({{ expression }})), {{ expression }})
{%- endmacro %}


{% macro spark__regex_extract(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, {{ sql_string(pattern) }}, {{ group }}), '')
{%- endmacro %}

{#- Spark's decoder reads `+` as a space: protect it first. -#}
{% macro spark__url_decode(expression) -%}
    coalesce(try_url_decode(replace({{ expression }}, '+', '%2B')), {{ expression }})
{%- endmacro %}


{#- Every match of `pattern` (an RE2 / Java regex both read the same) replaced. -#}
{% macro regex_replace_all(expression, pattern, replacement) %}
    {{ return(adapter.dispatch('regex_replace_all', 'trailhouse')(expression, pattern, replacement)) }}
{% endmacro %}

{% macro duckdb__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }}, 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ sql_string(pattern) }}, {{ sql_string(replacement) }})
{%- endmacro %}


{#- Every match of `pattern` (its `group`) as a list of text. -#}
{% macro regex_extract_all(expression, pattern, group=0) -%}
    regexp_extract_all({{ expression }}, {{ sql_string(pattern) }}, {{ group }})
{%- endmacro %}
