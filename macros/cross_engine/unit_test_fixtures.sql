{#
    Unit-test fixtures on Spark. dbt writes fixture values as SQL literals; these overrides of
    dbt's own macros (dispatch search order in dbt_project.yml) make the same YAML fixtures
    read the same on Spark as on DuckDB.
#}

{#- Spark reads backslash escapes in literals: a JSON fixture's `\"` must arrive as written. A
    backslash is written `\u005C`, not `\\`: dbt finds the statement to put the detections' CTEs
    in with sqlparse, which reads `'\\'` as an open literal, and then cuts the SQL at the
    first `;` it believes is outside one. -#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace("\\", "\\u005C") | replace("'", "\\'") }}
{%- endmacro %}

{#- A list in a fixture (`ips: ['10.0.0.1']`) is written as a list literal, which Spark
    spells array(...). -#}
{% macro spark__safe_cast(field, type) -%}
    {%- set text = field | string | trim -%}
    {%- set kind = type | lower -%}
    {%- if kind.startswith('array') and text.startswith('[') and text.endswith(']') -%}
        cast(array({{ text[1:-1] }}) as {{ type }})
    {%- elif kind.startswith('array') or kind.startswith('struct') or kind.startswith('map') -%}
        cast({{ text.strip('"').strip("'") }} as {{ type }})
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
