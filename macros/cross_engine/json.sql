{#
    JSON access goes through these macros so models stay engine-neutral: each engine gets its
    own `<adapter>__` implementation and the models never change.
#}

{% macro json_to_struct(column, shape) %}
    {#- Parse a JSON document once into a struct; `shape` maps field names to types or to
        nested shapes. One parse per record is several times faster than a lookup per field. -#}
    {{ return(adapter.dispatch('json_to_struct', 'trailhouse')(column, shape)) }}
{% endmacro %}

{% macro duckdb__json_to_struct(column, shape) -%}
    from_json({{ column }}, '{{ tojson(shape) }}')
{%- endmacro %}


{% macro json_string(column, path) %}
    {#- The value at a JSONPath (`$.a.b`) as text; NULL when absent. -#}
    {{ return(adapter.dispatch('json_string', 'trailhouse')(column, path)) }}
{% endmacro %}

{% macro duckdb__json_string(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}


{% macro json_value(column, path) %}
    {#- The JSON sub-document at a JSONPath; NULL when absent. -#}
    {{ return(adapter.dispatch('json_value', 'trailhouse')(column, path)) }}
{% endmacro %}

{% macro duckdb__json_value(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}


{% macro json_text(column) %}
    {#- A JSON value serialized as text, for pattern searches across a whole document. -#}
    {{ return(adapter.dispatch('json_text', 'trailhouse')(column)) }}
{% endmacro %}

{% macro duckdb__json_text(column) -%}
    cast({{ column }} as varchar)
{%- endmacro %}


{% macro json_string_list(column, path) %}
    {#- The text values at a JSONPath with a wildcard (`$[*].ARN`) as a list; NULL when absent. -#}
    {{ return(adapter.dispatch('json_string_list', 'trailhouse')(column, path)) }}
{% endmacro %}

{% macro duckdb__json_string_list(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}


{% macro json_or_null(column) %}
    {#- The JSON text `column` if it parses, else NULL: for JSON kept inside a string field,
        which the log's writer never promised to be valid. -#}
    {{ return(adapter.dispatch('json_or_null', 'trailhouse')(column)) }}
{% endmacro %}

{% macro duckdb__json_or_null(column) -%}
    case when json_valid({{ column }}) then {{ column }} end
{%- endmacro %}


{#- Spark: a shape as a DDL type (`struct<...>`), JSON-typed fields as text (Spark keeps an
    object or array met where text is expected as its JSON text). -#}
{% macro _spark_shape_type(shape) -%}
    {%- if shape is mapping -%}
        struct<{% for name, inner in shape.items() %}`{{ name }}`: {{ _spark_shape_type(inner) }}{{ ', ' if not loop.last }}{% endfor %}>
    {%- elif shape is string -%}
        {{- {'VARCHAR': 'string', 'JSON': 'string'}.get(shape | upper, shape | lower) -}}
    {%- else -%}
        array<{{ _spark_shape_type(shape[0]) }}>
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_to_struct(column, shape) -%}
    from_json({{ column }}, '{{ _spark_shape_type(shape) }}')
{%- endmacro %}

{% macro spark__json_string(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}

{#- Spark gives a string value unquoted; callers only test a JSON value for presence. -#}
{% macro spark__json_value(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}

{#- Spark's JSON functions read text that does not parse as NULL already. -#}
{% macro spark__json_or_null(column) -%}
    {{ column }}
{%- endmacro %}

{% macro spark__json_text(column) -%}
    {{ column }}
{%- endmacro %}

{#- One `[*]` wildcard: the array before it, then the path after it in each element. -#}
{% macro spark__json_string_list(column, path) -%}
    {%- set prefix, suffix = path.split('[*]', 1) -%}
    {%- set array = column if prefix == '$' else 'get_json_object(' ~ column ~ ", '" ~ prefix ~ "')" -%}
    {%- if suffix -%}
        transform(
            from_json({{ array }}, 'array<string>'),
            element -> get_json_object(element, '${{ suffix }}')
        )
    {%- else -%}
        from_json({{ array }}, 'array<string>')
    {%- endif -%}
{%- endmacro %}
