{% test required_schema_fields(model, mapping) %}
    {#- Rows of a schema view where a field the mapping marks required is NULL. A warning, not
        an error: a required field comes from a record's own values (a forged `awsRegion`),
        and one record must not stop the build of every alert. The test suite's shared lakes
        are built with no warning at all, which keeps the mappings honest. -#}
    {{ config(severity='warn') }}
    {%- set required = [] -%}
    {%- for field in schema_mappings()[mapping]['fields'] if field[2] -%}
        {%- do required.append(adapter.quote(field[0])) -%}
    {%- endfor %}
    select *
    from {{ model }}
    where {% for column in required %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
