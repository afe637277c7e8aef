{#- Shell-style pattern match (`*` any run, `?` one character), as in the inventory seeds. -#}
{% macro matches_glob(value, pattern) %}
    {{ return(adapter.dispatch('matches_glob', 'trailhouse')(value, pattern)) }}
{% endmacro %}

{% macro duckdb__matches_glob(value, pattern) -%}
    ({{ value }} glob {{ pattern }})
{%- endmacro %}
