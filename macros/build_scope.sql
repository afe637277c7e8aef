{#-
    Data tests that follow the data. A `dbt build` records, per lake dataset it built, the
    partitions it wrote or removed (`trailhouse_build_scope`, filled by the lake_partitions
    materialization, emptied when a command starts). A data test on a lake dataset, or on a
    view over lake datasets, then checks only those partitions: a build that adds an hour of
    events checks that hour's day, not the whole lake.

    The whole lake is checked when:
      - the command built none of the dataset's lake inputs (`dbt test` on its own, or a
        selection that left one of them out: nothing says which partitions are new);
      - `--vars '{full_checks: true}'` is given (CI does);
      - the target is not DuckDB (Spark builds every partition anyway).
    A view names the timestamp column its rows are dated by in `meta.scope_time` (with
    `meta.scope_time_unit: epoch_ms` for a number of milliseconds); a view without it is
    always checked whole.
-#}

{% macro build_scope_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema, identifier='trailhouse_build_scope')) }}
{%- endmacro %}


{#- on-run-start: an empty scope, so what a command checks is what that command built. -#}
{% macro start_build_scope() %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- do run_query(
            "create table if not exists " ~ build_scope_relation()
            ~ " (model varchar, partition_value varchar)") -%}
        {%- do run_query("delete from " ~ build_scope_relation()) -%}
    {%- endif -%}
{% endmacro %}


{#- Called by lake_partitions once its plan is made: the model was built by this command,
    and these partitions changed. -#}
{% macro record_build_scope(dataset, plan_table) %}
    {%- do run_query(
        "insert into " ~ build_scope_relation() ~ " "
        ~ "select " ~ sql_string(dataset) ~ ", null "
        ~ "union all select " ~ sql_string(dataset) ~ ", partition_value from " ~ plan_table
        ~ " where action != 'keep'") -%}
{% endmacro %}


{#- The condition a data test adds for `test_node` ('' to check every row). -#}
{% macro build_scope_condition(test_node) %}
    {%- if not execute or var('full_checks', false) or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set attached = graph.nodes.get(test_node.attached_node or '') -%}
    {%- if attached is none or attached.resource_type != 'model' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set is_lake = attached.config.materialized == 'lake_partitions' -%}
    {%- set lake_models = [attached] if is_lake else
        _lake_upstream(attached) | selectattr('config.materialized', 'equalto', 'lake_partitions') | list -%}
    {%- set column = attached.config.get('partition_by') if is_lake else attached.config.meta.get('scope_time') -%}
    {%- if not lake_models or not column -%}
        {{ return('') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for node in lake_models -%}{%- do names.append(sql_string(node.name)) -%}{%- endfor -%}
    {%- set rows = run_query(
        "select model, partition_value from " ~ build_scope_relation()
        ~ " where model in (" ~ names | join(', ') ~ ")").rows -%}
    {%- set built = [] -%}
    {%- set days = [] -%}
    {%- for row in rows -%}
        {%- do built.append(sql_string(row[0])) -%}
        {%- if row[1] is not none and row[1] not in days -%}{%- do days.append(row[1]) -%}{%- endif -%}
    {%- endfor -%}
    {%- for name in names if name not in built -%}
        {{ return('') }}
    {%- endfor -%}
    {%- set days = days | sort -%}
    {%- if not days -%}
        {{ return('false') }}
    {%- endif -%}
    {%- if is_lake -%}
        {#- constants, so the scan opens only those partitions' files -#}
        {%- set items = [] -%}
        {%- for day in days -%}{%- do items.append('date ' ~ sql_string(day)) -%}{%- endfor -%}
        {{ return(adapter.quote(column) ~ ' in (' ~ items | join(', ') ~ ')') }}
    {%- endif -%}
    {%- set ranges = [] -%}
    {%- for day in days -%}
        {%- set start = "timestamptz " ~ sql_string(day ~ ' 00:00:00+00') -%}
        {%- set bounds = [start, '(' ~ start ~ " + interval 1 day)"] -%}
        {%- if attached.config.meta.get('scope_time_unit') == 'epoch_ms' -%}
            {%- set bounds = ['epoch_ms(' ~ bounds[0] ~ ')', 'epoch_ms' ~ bounds[1]] -%}
        {%- endif -%}
        {%- do ranges.append('(' ~ adapter.quote(column) ~ ' >= ' ~ bounds[0] ~ ' and '
            ~ adapter.quote(column) ~ ' < ' ~ bounds[1] ~ ')') -%}
    {%- endfor -%}
    {{ return('(' ~ ranges | join(' or ') ~ ')') }}
{% endmacro %}


{#- dbt's `where` for data tests, plus the build's scope (above). -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = build_scope_condition(model) -%}
    {%- if scope -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
