{#-
    Data tests that follow the data. Each lake_partitions build adds the partitions it wrote
    or removed to `trailhouse_unchecked`; they stay there until every data test over that
    dataset (on it, or on a view over it) has passed in one command. A data test on a lake
    dataset, or on a view over lake datasets, checks only its datasets' unchecked partitions:
    a build that adds an hour of events checks that hour's day, not the whole lake, and a day
    whose tests failed is checked again by the next build even if nothing new landed for it.

    The whole relation is checked when:
      - the command did not build one of the dataset's lake inputs (`dbt test` on its own, or
        a selection that left one out: nothing says which partitions are new);
      - the view tested, or a view upstream of it, was created in this command (its SQL
        changed, so every row it returns may have);
      - `--vars '{full_checks: true}'` is given;
      - the target is not DuckDB (Spark builds every partition anyway).
    A view names the timestamp column its rows are dated by in `meta.scope_time` (with
    `meta.scope_time_unit: epoch_ms` for a number of milliseconds); a view without it is
    always checked whole.
-#}

{#- on-run-start: nothing built yet by this command; the unchecked partitions persist. -#}
{% macro start_build_scope() %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- do run_query(
            "create table if not exists " ~ trailhouse_table('trailhouse_build_scope') ~ " (model varchar)") -%}
        {%- do run_query("delete from " ~ trailhouse_table('trailhouse_build_scope')) -%}
        {%- do run_query(
            "create table if not exists " ~ trailhouse_table('trailhouse_unchecked')
            ~ " (model varchar, partition_value varchar)") -%}
    {%- endif -%}
{% endmacro %}


{#- lake_partitions, once its plan is made: the model is built by this command, and these
    partitions changed. Views record that they were created (macros/views.sql). -#}
{% macro record_build_scope(dataset, plan_table=none) %}
    {%- do run_query(
        "insert into " ~ trailhouse_table('trailhouse_build_scope') ~ " values (" ~ sql_string(dataset) ~ ")") -%}
    {%- if plan_table -%}
        {%- do run_query(
            "insert into " ~ trailhouse_table('trailhouse_unchecked') ~ " "
            ~ "select " ~ sql_string(dataset) ~ ", partition_value from " ~ plan_table
            ~ " where action != 'keep'") -%}
    {%- endif -%}
{% endmacro %}


{#- The lake datasets a model is, or reads (lake_partitions models), and the views between. -#}
{% macro _scope_inputs(node) %}
    {%- if node.config.materialized == 'lake_partitions' -%}
        {{ return({'lake': [node], 'views': []}) }}
    {%- endif -%}
    {%- set upstream = _lake_upstream(node) -%}
    {{ return({
        'lake': upstream | selectattr('config.materialized', 'equalto', 'lake_partitions') | list,
        'views': [node] + (upstream | selectattr('config.materialized', 'equalto', 'view') | list),
    }) }}
{% endmacro %}


{#- The content of the seeds a view reads, now, and when its tests last all passed. -#}
{% macro _seeds_read(view) %}
    {{ return(run_query('select ' ~ seed_content_md5(_lake_upstream(view))).columns[0].values()[0]) }}
{% endmacro %}

{% macro _seeds_checked(view) %}
    {%- set recorded = run_query(
        "select logic from " ~ trailhouse_table('trailhouse_views') ~ " where view_name = "
        ~ sql_string('seeds checked: ' ~ view.name)).columns[0].values() -%}
    {{ return(recorded[0] if recorded else none) }}
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
    {%- set column = attached.config.get('partition_by') if is_lake else attached.config.meta.get('scope_time') -%}
    {%- set inputs = _scope_inputs(attached) -%}
    {%- if not inputs.lake or not column -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = run_query("select model from " ~ trailhouse_table('trailhouse_build_scope')).columns[0].values() -%}
    {#- every lake input built by this command, and no view on the way created by it -#}
    {%- for node in inputs.lake if node.name not in built -%}
        {{ return('') }}
    {%- endfor -%}
    {%- for node in inputs.views if node.name in built -%}
        {{ return('') }}
    {%- endfor -%}
    {#- nor a seed it reads changed since its tests last passed -#}
    {%- if not is_lake and _seeds_read(attached) != _seeds_checked(attached) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for node in inputs.lake -%}{%- do names.append(sql_string(node.name)) -%}{%- endfor -%}
    {%- set days = run_query(
        "select distinct partition_value from " ~ trailhouse_table('trailhouse_unchecked')
        ~ " where model in (" ~ names | join(', ') ~ ") order by 1").columns[0].values() -%}
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


{#- on-run-end: a lake dataset's partitions are checked once every data test over it (on it
    or on a view over it) ran in this command and passed (a warning passes: those tests are
    warnings by design). A failed, skipped or deselected test keeps them unchecked. -#}
{% macro finish_build_scope(results) %}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- for result in results if result.node.resource_type == 'test'
            and result.status in ('pass', 'warn') -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {#- the lake datasets with a test over them that did not pass in this command -#}
    {%- set unchecked = [] -%}
    {%- for test in graph.nodes.values() if test.resource_type == 'test'
            and test.attached_node and test.unique_id not in passed -%}
        {%- set attached = graph.nodes.get(test.attached_node) -%}
        {%- if attached is not none and attached.resource_type == 'model' -%}
            {%- for lake in _scope_inputs(attached).lake -%}
                {%- do unchecked.append(lake.name) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {#- views whose tests all passed: the seeds they read are checked as they are now -#}
    {%- for view in graph.nodes.values() if view.resource_type == 'model'
            and view.config.materialized == 'view' and view.config.meta.get('scope_time') -%}
        {%- set tests = graph.nodes.values() | selectattr('resource_type', 'equalto', 'test')
            | selectattr('attached_node', 'equalto', view.unique_id) | map(attribute='unique_id') | list -%}
        {%- if tests and tests | reject('in', passed) | list | length == 0 -%}
            {%- set seeds = _seeds_read(view) -%}
            {%- do record_view_logic('seeds checked: ' ~ view.name, seeds, seeds) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set checked = [] -%}
    {%- for model in run_query("select model from " ~ trailhouse_table('trailhouse_build_scope')).columns[0].values()
            if model not in unchecked -%}
        {%- do checked.append(sql_string(model)) -%}
    {%- endfor -%}
    {%- if checked -%}
        {%- do run_query(
            "delete from " ~ trailhouse_table('trailhouse_unchecked')
            ~ " where model in (" ~ checked | join(', ') ~ ")") -%}
    {%- endif -%}
    {%- do adapter.commit() -%}
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
