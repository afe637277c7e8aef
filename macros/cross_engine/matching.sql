{#
    Value tests, as the compiled Sigma detections (models/detections/sigma/) use them. Values
    arrive as plain strings and are quoted here, so no model splices text into SQL itself.
    Text comparisons are case-insensitive unless `cased`, as Sigma's are.
#}

{% macro sql_string(value) %}
    {{ return(adapter.dispatch('sql_string', 'trailhouse')(value)) }}
{% endmacro %}

{% macro duckdb__sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- Spark reads backslash escapes in literals, and `''` as two adjacent literals. -#}
{% macro spark__sql_string(value) -%}
    '{{ spark__escape_single_quotes(value) }}'
{%- endmacro %}


{#- `subject` equals `value` (the whole text). -#}
{% macro text_equals(subject, value, cased=false) -%}
    {%- if cased -%}
        ({{ subject }} = {{ sql_string(value) }})
    {%- else -%}
        (lower({{ subject }}) = {{ sql_string(value | lower) }})
    {%- endif -%}
{%- endmacro %}


{#- `subject` equals one of `values`. -#}
{% macro text_in(subject, values) -%}
    (lower({{ subject }}) in (
        {%- for value in values -%}
            {{ sql_string(value | lower) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    ))
{%- endmacro %}


{#- `subject` matches a LIKE pattern (`%`, `_`; `\` escapes them). -#}
{% macro text_like(subject, pattern, cased=false) -%}
    {%- if cased -%}
        ({{ subject }} like {{ sql_string(pattern) }} escape {{ sql_string('\\') }})
    {%- else -%}
        (lower({{ subject }}) like {{ sql_string(pattern | lower) }} escape {{ sql_string('\\') }})
    {%- endif -%}
{%- endmacro %}


{#- `subject` equals, starts with or ends with (`how`) the text of the expression `other`. -#}
{% macro text_compare(subject, other, how='equals') -%}
    {%- if how == 'starts' -%}
        (left(lower({{ subject }}), length({{ other }})) = lower({{ other }}))
    {%- elif how == 'ends' -%}
        (right(lower({{ subject }}), length({{ other }})) = lower({{ other }}))
    {%- else -%}
        (lower({{ subject }}) = lower({{ other }}))
    {%- endif -%}
{%- endmacro %}


{#- An RE2 pattern is found in `subject` (not anchored; flags inline, e.g. `(?i)`). -#}
{% macro regex_matches(subject, pattern) %}
    {{ return(adapter.dispatch('regex_matches', 'trailhouse')(subject, pattern)) }}
{% endmacro %}

{% macro duckdb__regex_matches(subject, pattern) -%}
    regexp_matches({{ subject }}, {{ sql_string(pattern) }})
{%- endmacro %}

{% macro spark__regex_matches(subject, pattern) -%}
    ({{ subject }} rlike {{ sql_string(pattern) }})
{%- endmacro %}


{#- `subject` read as a number compares (`operator`) with `number`; text never does. -#}
{% macro number_compare(subject, operator, number) %}
    {{ return(adapter.dispatch('number_compare', 'trailhouse')(subject, operator, number)) }}
{% endmacro %}

{% macro default__number_compare(subject, operator, number) -%}
    (try_cast({{ subject }} as double) {{ operator }} {{ number }})
{%- endmacro %}


{#- Some element `var` of the list `values` satisfies `test` (SQL using `var`); never NULL. -#}
{% macro list_any(values, var, test) %}
    {{ return(adapter.dispatch('list_any', 'trailhouse')(values, var, test)) }}
{% endmacro %}

{% macro spark__list_any(values, var, test) -%}
    coalesce(exists({{ values }}, {{ var }} -> coalesce({{ test }}, false)), false)
{%- endmacro %}

{% macro duckdb__list_any(values, var, test) -%}
    coalesce(list_bool_or(list_transform({{ values }}, {{ var }} -> coalesce({{ test }}, false))), false)
{%- endmacro %}


{#-
    The values at a path of keys inside the JSON column `column`, as text, with arrays met on
    the way (the document itself included) flattened: {"a": [{"b": 1}, {"b": 2}]} and
    ['a', 'b'] give ['1', '2']. Objects and arrays at the end are given as their JSON text;
    JSON nulls and missing keys give nothing.
-#}
{% macro json_path_strings(column, keys) %}
    {{ return(adapter.dispatch('json_path_strings', 'trailhouse')(column, keys)) }}
{% endmacro %}

{% macro duckdb__json_path_strings(column, keys) -%}
    {%- set document = 'cast(' ~ column ~ ' as json)' -%}
    {%- set ns = namespace(values="case when json_type(" ~ document ~ ") = 'ARRAY' then cast("
        ~ "json_extract(" ~ document ~ ", '$[*]') as json[]) else [" ~ document ~ "] end") -%}
    {%- for key in keys -%}
        {%- set child = "json_extract(d, " ~ sql_string('$."' ~ key ~ '"') ~ ")" -%}
        {%- set ns.values = "flatten(list_transform(" ~ ns.values ~ ", d -> case"
            ~ " when json_type(" ~ child ~ ") = 'ARRAY' then cast(json_extract(d, "
            ~ sql_string('$."' ~ key ~ '"[*]') ~ ") as json[])"
            ~ " else [" ~ child ~ "] end))" -%}
    {%- endfor -%}
    list_filter(
        list_transform(
            {{ ns.values }},
            j -> case
                when json_type(j) in ('OBJECT', 'ARRAY') then cast(j as varchar)
                else json_extract_string(j, '$')
            end
        ),
        s -> s is not null
    )
{%- endmacro %}

{#- Spark: an array at a key is read as one (a string that looks like one is not); anything
    else is the key's value as text. -#}
{% macro spark__json_path_strings(column, keys) -%}
    {#- a document that is not an array is read as the one element of one, so a JSON string
        comes out unquoted, as any other value does -#}
    {%- set ns = namespace(values="coalesce(from_json(" ~ column ~ ", 'array<string>'), "
        ~ "from_json('[' || " ~ column ~ " || ']', 'array<string>'))") -%}
    {%- for key in keys -%}
        {%- set ns.values = "flatten(transform(" ~ ns.values ~ ", d -> coalesce("
            ~ "from_json(d, 'struct<`" ~ key ~ "`: array<string>>').`" ~ key ~ "`, "
            ~ "array(get_json_object(d, " ~ sql_string("$['" ~ key ~ "']") ~ ")))))" -%}
    {%- endfor -%}
    filter({{ ns.values }}, s -> s is not null)
{%- endmacro %}

