{% test required_schema_fields(model, mapping) %}
    {#- Rows of a schema view where a field the mapping marks required is NULL. -#}
    {%- set required = [] -%}
    {%- for field in schema_mappings()[mapping]['fields'] if field[2] -%}
        {%- do required.append(adapter.quote(field[0])) -%}
    {%- endfor %}
    select *
    from {{ model }}
    where {% for column in required %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
