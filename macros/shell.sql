{#
    The event shell: the shape every source is mapped to in `events` (see
    models/intermediate/*/int_<source>__shell.sql), and the helpers its columns use.
#}

{#- Severity names in increasing order; rules combine by taking the highest. -#}
{% macro severity_rank(severity) -%}
    case {{ severity }}
        when 'info' then 0
        when 'low' then 1
        when 'medium' then 2
        when 'high' then 3
        when 'critical' then 4
    end
{%- endmacro %}


{#-
    Render a summary template (the shell's `event_summary_templates`, a detection's
    `meta.summary`): `{column}` is replaced by that column's value, for the columns below; a
    `[...]` segment is dropped when a column inside it is NULL (so "[ from {source_ip_address}]"
    disappears for events without an address); a NULL outside brackets renders as "unknown".
-#}
{#- The columns a summary template may name, as `{column}`. -#}
{% macro summary_columns() -%}
    {{ return([
        'principal_name', 'event_name', 'event_source', 'resource_name',
        'source_ip_address', 'account_name', 'aws_region', 'error_code',
    ]) }}
{%- endmacro %}


{% macro render_summary(template) -%}
    {#- `{?}` marks a NULL value until the segments holding one are dropped. -#}
    {%- set ns = namespace(sql=template) -%}
    {%- for column in summary_columns() -%}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ column ~ "}', coalesce(cast("
            ~ column ~ " as string), '{?}'))" -%}
    {%- endfor -%}
    replace(
        replace(
            replace(
                {{ regex_replace_all(ns.sql, '\\[[^\\]]*[{][?][}][^\\]]*\\]', '') }},
                '{?}', 'unknown'
            ),
            '[', ''
        ),
        ']', ''
    )
{%- endmacro %}


{#- The non-NULL values of the comma-separated SQL expressions in the call block, as a list. -#}
{% macro non_null_list() -%}
    {{ list_filter(list_of([caller()]), 'item', 'item is not null') }}
{%- endmacro %}


{#- A struct (or any value) as a JSON document. -#}
{% macro to_json_document(expression) %}
    {{ return(adapter.dispatch('to_json_document', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__to_json_document(expression) -%}
    to_json({{ expression }})
{%- endmacro %}

{#- Spark leaves NULL fields out unless told; DuckDB writes them as null. -#}
{% macro spark__to_json_document(expression) -%}
    to_json({{ expression }}, map('ignoreNullFields', 'false'))
{%- endmacro %}
