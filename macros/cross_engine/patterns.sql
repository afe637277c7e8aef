{#- Shell-style pattern match (`*` any run, `?` one character), as in the inventory seeds. -#}
{% macro matches_glob(value, pattern) %}
    {{ return(adapter.dispatch('matches_glob', 'trailhouse')(value, pattern)) }}
{% endmacro %}

{% macro duckdb__matches_glob(value, pattern) -%}
    ({{ value }} glob {{ pattern }})
{%- endmacro %}

{#- Spark has no GLOB: the pattern becomes a LIKE pattern (its `%`, `_` and `\` escaped; a
    backslash spelled `\u005C`, see spark__escape_single_quotes). -#}
{% macro spark__matches_glob(value, pattern) -%}
    ({{ value }} like replace(replace(replace(replace(replace(
        {{ pattern }}, '\u005C', '\u005C\u005C'), '%', '\u005C%'), '_', '\u005C_'), '*', '%'),
        '?', '_'))
{%- endmacro %}
