{#- Shell-style pattern match (`*` any run, `?` one character), as in the inventory seeds. -#}
{% macro matches_glob(value, pattern) %}
    {{ return(adapter.dispatch('matches_glob', 'trailhouse')(value, pattern)) }}
{% endmacro %}

{% macro duckdb__matches_glob(value, pattern) -%}
    ({{ value }} glob {{ pattern }})
{%- endmacro %}

{#- Spark has no GLOB: the pattern becomes a LIKE pattern (its `%`, `_` and `\` escaped). -#}
{% macro spark__matches_glob(value, pattern) -%}
    ({{ value }} like replace(replace(replace(replace(replace(
        {{ pattern }}, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_'))
{%- endmacro %}
