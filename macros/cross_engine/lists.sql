{#
    Lists (DuckDB) / arrays (Spark) and structs. Lambdas are given as a variable name and a SQL
    expression using it, so models never write an engine's lambda or index syntax.
#}

{#- A list of the SQL expressions `items` (a Jinja list). -#}
{% macro list_of(items) %}
    {{ return(adapter.dispatch('list_of', 'trailhouse')(items)) }}
{% endmacro %}

{% macro duckdb__list_of(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}

{% macro spark__list_of(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}


{#- The lists `lists` (SQL expressions) one after another. -#}
{% macro list_concat(lists) %}
    {{ return(adapter.dispatch('list_concat', 'trailhouse')(lists)) }}
{% endmacro %}

{% macro duckdb__list_concat(lists) -%}
    flatten([{{ lists | join(', ') }}])
{%- endmacro %}

{#- Spark's concat is NULL when any list is; DuckDB skips NULL lists. -#}
{% macro spark__list_concat(lists) -%}
    flatten(filter(array({{ lists | join(', ') }}), part -> part is not null))
{%- endmacro %}


{#- The elements `var` of `values` for which `test` is true. -#}
{% macro list_filter(values, var, test) %}
    {{ return(adapter.dispatch('list_filter', 'trailhouse')(values, var, test)) }}
{% endmacro %}

{% macro duckdb__list_filter(values, var, test) -%}
    list_filter({{ values }}, {{ var }} -> {{ test }})
{%- endmacro %}

{% macro spark__list_filter(values, var, test) -%}
    filter({{ values }}, {{ var }} -> {{ test }})
{%- endmacro %}


{#- `expression` (using `var`) of every element `var` of `values`. -#}
{% macro list_transform(values, var, expression) %}
    {{ return(adapter.dispatch('list_transform', 'trailhouse')(values, var, expression)) }}
{% endmacro %}

{% macro duckdb__list_transform(values, var, expression) -%}
    list_transform({{ values }}, {{ var }} -> {{ expression }})
{%- endmacro %}

{% macro spark__list_transform(values, var, expression) -%}
    transform({{ values }}, {{ var }} -> {{ expression }})
{%- endmacro %}


{#- The lists `expression` (using `var`) gives for each element `var` of `values`, one after
    another. `expression` must not be NULL (Spark's flatten would be). -#}
{% macro list_flat_map(values, var, expression) %}
    {{ return(adapter.dispatch('list_flat_map', 'trailhouse')(values, var, expression)) }}
{% endmacro %}

{% macro duckdb__list_flat_map(values, var, expression) -%}
    flatten(list_transform({{ values }}, {{ var }} -> {{ expression }}))
{%- endmacro %}

{% macro spark__list_flat_map(values, var, expression) -%}
    flatten(transform({{ values }}, {{ var }} -> {{ expression }}))
{%- endmacro %}


{#- The first element of a list; NULL when it is empty. -#}
{% macro list_first(values) %}
    {{ return(adapter.dispatch('list_first', 'trailhouse')(values)) }}
{% endmacro %}

{% macro duckdb__list_first(values) -%}
    {{ values }}[1]
{%- endmacro %}

{% macro spark__list_first(values) -%}
    try_element_at({{ values }}, 1)
{%- endmacro %}


{% macro list_size(values) %}
    {{ return(adapter.dispatch('list_size', 'trailhouse')(values)) }}
{% endmacro %}

{% macro duckdb__list_size(values) -%}
    len({{ values }})
{%- endmacro %}

{% macro spark__list_size(values) -%}
    size({{ values }})
{%- endmacro %}


{% macro list_min(values) %}
    {{ return(adapter.dispatch('list_min', 'trailhouse')(values)) }}
{% endmacro %}

{% macro duckdb__list_min(values) -%}
    list_min({{ values }})
{%- endmacro %}

{% macro spark__list_min(values) -%}
    array_min({{ values }})
{%- endmacro %}


{#- The distinct values of a list, sorted. -#}
{% macro list_sort_distinct(values) %}
    {{ return(adapter.dispatch('list_sort_distinct', 'trailhouse')(values)) }}
{% endmacro %}

{% macro duckdb__list_sort_distinct(values) -%}
    list_sort(list_distinct({{ values }}))
{%- endmacro %}

{% macro spark__list_sort_distinct(values) -%}
    array_sort(array_distinct({{ values }}))
{%- endmacro %}


{#- Aggregate: the distinct non-NULL values of `expression` in the group, sorted. -#}
{% macro sorted_set_agg(expression) %}
    {{ return(adapter.dispatch('sorted_set_agg', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__sorted_set_agg(expression) -%}
    list_sort(list_distinct(list({{ expression }})))
{%- endmacro %}

{% macro spark__sorted_set_agg(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}


{#- The first `n` elements of a list. -#}
{% macro list_head(values, n) %}
    {{ return(adapter.dispatch('list_head', 'trailhouse')(values, n)) }}
{% endmacro %}

{% macro duckdb__list_head(values, n) -%}
    list_slice({{ values }}, 1, {{ n }})
{%- endmacro %}

{% macro spark__list_head(values, n) -%}
    slice({{ values }}, 1, {{ n }})
{%- endmacro %}


{#- Aggregate: `expression` of the row that sorts first by the expressions `order_by`. -#}
{% macro first_by(expression, order_by) %}
    {{ return(adapter.dispatch('first_by', 'trailhouse')(expression, order_by)) }}
{% endmacro %}

{% macro duckdb__first_by(expression, order_by) -%}
    arg_min({{ expression }}, ({{ order_by | join(', ') }}))
{%- endmacro %}

{% macro spark__first_by(expression, order_by) -%}
    min_by({{ expression }}, struct({{ order_by | join(', ') }}))
{%- endmacro %}


{#- A struct of the named SQL expressions `fields` (a Jinja dict: name → expression). -#}
{% macro struct_of(fields) %}
    {{ return(adapter.dispatch('struct_of', 'trailhouse')(fields)) }}
{% endmacro %}

{% macro duckdb__struct_of(fields) -%}
    struct_pack({% for name, expression in fields.items() %}{{ name }} := {{ expression }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct({% for name, expression in fields.items() %}'{{ name }}', {{ expression }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- `*` without the columns `columns` (a Jinja list of names). -#}
{% macro star_except(columns) %}
    {{ return(adapter.dispatch('star_except', 'trailhouse')(columns)) }}
{% endmacro %}

{% macro duckdb__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}


{#- Window aggregate: the number of distinct values of `expression` over `window` (the
    body of an OVER clause: partition, order and frame). -#}
{% macro count_distinct_over(expression, window) %}
    {{ return(adapter.dispatch('count_distinct_over', 'trailhouse')(expression, window)) }}
{% endmacro %}

{% macro duckdb__count_distinct_over(expression, window) -%}
    count(distinct {{ expression }}) over ({{ window }})
{%- endmacro %}

{#- Spark has no DISTINCT window aggregates; the set's size is the same number. -#}
{% macro spark__count_distinct_over(expression, window) -%}
    size(collect_set({{ expression }}) over ({{ window }}))
{%- endmacro %}


{#- Window aggregate: the number of distinct non-null items of the lists `items` over `window`
    (one event can carry many things: the parameter names of one GetParameters call). -#}
{% macro count_distinct_items_over(items, window) %}
    {{ return(adapter.dispatch('count_distinct_items_over', 'trailhouse')(items, window)) }}
{% endmacro %}

{% macro duckdb__count_distinct_items_over(items, window) -%}
    len(list_distinct(flatten(list({{ items }}) over ({{ window }}))))
{%- endmacro %}

{% macro spark__count_distinct_items_over(items, window) -%}
    size(filter(array_distinct(flatten(collect_list({{ items }}) over ({{ window }}))), item -> item is not null))
{%- endmacro %}
