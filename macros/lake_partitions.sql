{#
    lake_partitions: an incremental, crash-safe, hive-partitioned Parquet dataset in the lake.

    dbt-duckdb's `external` models rewrite every partition on every run. This materialization
    rebuilds only the partitions whose inputs changed:

      1. It fingerprints each partition of the partitioned input the model is `driven_by` (for
         `cloudtrail_events`, the landing zone) from its files' names, sizes and modification
         times, together with the SQL of the model and of every upstream view, so a logic change
         rebuilds everything.
      2. A partition is rebuilt when its fingerprint differs from the one recorded at the last
         build (`<lake>/_state/dbt/<model>.parquet`), when its output file is missing, or on
         `--full-refresh`. Partitions whose input disappeared are removed.
      3. Each partition is computed with the model's SQL restricted to that partition: the model
         marks the spot with `{{ lake_partition_filter() }}`, which is `true` everywhere else
         (unit tests, compile, lint) and becomes `<column> = '<value>'` here, so DuckDB prunes
         the input to that partition's files.
      4. The partition is written to local scratch, then published in one step by the ingest
         plugin (a rename on a local lake, one PUT on S3): readers see the old file or the new
         one, never a partial file. The state is recorded only after all partitions are
         published, so a crash at any point is repaired by the next run.

    Rows inside a partition are sorted by `order_by`, so a rebuild of unchanged inputs writes
    the same rows in the same order.
#}

{% macro lake_partition_filter() -%}
    true /* lake_partitions:filter */
{%- endmacro %}


{% macro _lake_upstream_views(node) %}
    {#- Every model upstream of `node`, found by walking the graph breadth-first. -#}
    {%- set ns = namespace(frontier=node.depends_on.nodes, seen=[]) -%}
    {%- for _ in range(50) -%}
        {%- set next = [] -%}
        {%- for unique_id in ns.frontier if unique_id not in ns.seen -%}
            {%- do ns.seen.append(unique_id) -%}
            {%- set parent = graph.nodes.get(unique_id) -%}
            {%- if parent is not none -%}
                {%- for grandparent in parent.depends_on.nodes -%}
                    {%- do next.append(grandparent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set ns.frontier = next -%}
    {%- endfor -%}
    {%- set names = [] -%}
    {%- for unique_id in ns.seen -%}
        {%- set parent = graph.nodes.get(unique_id) -%}
        {%- if parent is not none and parent.resource_type in ('model', 'seed') -%}
            {%- do names.append(parent.alias or parent.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% materialization lake_partitions, adapter='duckdb' %}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set driven_by = config.require('driven_by') -%}
    {%- set order_by = config.get('order_by', partition_by) -%}
    {%- set root = adapter.external_root() -%}
    {%- set dataset = this.identifier -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set marker = lake_partition_filter() -%}
    {%- set full_refresh = should_full_refresh() -%}
    {%- set scratch = run_query('select trailhouse_scratch()').columns[0].values()[0] -%}
    {%- set state_key = '_state/dbt/' ~ dataset ~ '.parquet' -%}

    {%- if marker not in compiled_code -%}
        {{ exceptions.raise_compiler_error(
            "lake_partitions model " ~ dataset ~ " must filter its partitioned input with "
            ~ "{{ lake_partition_filter() }}, or every partition would read everything") }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- The logic fingerprint: this model's SQL and the SQL of every upstream view. -#}
    {%- set upstream = _lake_upstream_views(model) -%}
    {%- set logic_query -%}
        select md5(
            '{{ local_md5(compiled_code) }}'
            || coalesce(string_agg(sql, ';' order by view_name), '')
        )
        from duckdb_views()
        where view_name in ('' {%- for name in upstream %}, '{{ name }}'{% endfor %})
    {%- endset -%}
    {%- set logic = run_query(logic_query).columns[0].values()[0] -%}

    {%- set has_input = run_query(
        "select count(*) from glob('" ~ root ~ "/" ~ driven_by ~ "/*/*.parquet')"
    ).columns[0].values()[0] > 0 -%}
    {%- set has_output = run_query(
        "select count(*) from glob('" ~ root ~ "/" ~ dataset ~ "/*/*.parquet')"
    ).columns[0].values()[0] > 0 -%}
    {#- A wildcard, because glob() of a literal S3 key returns it whether or not it exists. -#}
    {%- set has_state = run_query(
        "select count(*) from glob('" ~ root ~ "/_state/dbt/*.parquet') "
        ~ "where file like '%/" ~ dataset ~ ".parquet'"
    ).columns[0].values()[0] > 0 -%}

    {%- set plan_query -%}
        create or replace temp table lake_partitions_plan as
        with

        inputs as (
            {% if has_input %}
            select
                regexp_extract(filename, '/{{ partition_by }}=([^/]+)/[^/]+$', 1) as partition_value,
                md5(
                    '{{ logic }}' || string_agg(
                        filename || ':' || size || ':' || last_modified, ',' order by filename
                    )
                ) as fingerprint
            from read_blob('{{ root }}/{{ driven_by }}/*/*.parquet')
            group by 1
            {% else %}
            select null::varchar as partition_value, null::varchar as fingerprint
            where false
            {% endif %}
        ),

        outputs as (
            {% if has_output %}
            select distinct
                regexp_extract(file, '/{{ partition_by }}=([^/]+)/[^/]+$', 1) as partition_value
            from glob('{{ root }}/{{ dataset }}/*/*.parquet')
            {% else %}
            select null::varchar as partition_value where false
            {% endif %}
        ),

        recorded as (
            {% if has_state and not full_refresh %}
            select partition_value, fingerprint
            from read_parquet('{{ root }}/{{ state_key }}')
            {% else %}
            select null::varchar as partition_value, null::varchar as fingerprint where false
            {% endif %}
        )

        select
            coalesce(inputs.partition_value, outputs.partition_value) as partition_value,
            inputs.fingerprint,
            case
                when inputs.partition_value is null then 'remove'
                when outputs.partition_value is null then 'build'
                when recorded.fingerprint is distinct from inputs.fingerprint then 'build'
                else 'keep'
            end as action
        from inputs
        full outer join outputs on inputs.partition_value = outputs.partition_value
        left join recorded on inputs.partition_value = recorded.partition_value
        order by 1
    {%- endset -%}
    {%- do run_query(plan_query) -%}
    {%- set plan = run_query(
        "select partition_value, action from lake_partitions_plan order by 1") -%}

    {%- set built = [] -%}
    {%- for row in plan.rows -%}
        {%- set value = row[0] -%}
        {%- set key = dataset ~ '/' ~ partition_by ~ '=' ~ value -%}
        {%- if row[1] == 'build' -%}
            {%- set local = scratch ~ '/' ~ dataset ~ '-' ~ invocation_id ~ '-' ~ value ~ '.parquet' -%}
            {%- set partition_sql = compiled_code.replace(
                marker, '(' ~ partition_by ~ " = '" ~ value ~ "')") -%}
            {% call statement('build_' ~ value) -%}
                copy (
                    select * exclude ({{ partition_by }})
                    from ({{ partition_sql }}) as model_rows
                    order by {{ order_by }}
                ) to '{{ local }}' (format parquet, compression zstd)
            {%- endcall %}
            {%- do run_query(
                "select trailhouse_publish('" ~ local ~ "', '" ~ key ~ "/data_0.parquet')") -%}
            {%- do built.append(value) -%}
        {%- elif row[1] == 'remove' -%}
            {%- do run_query("select trailhouse_delete_prefix('" ~ key ~ "/')") -%}
        {%- endif -%}
    {%- endfor -%}

    {#- Record what was built from (the fingerprints planned above: input that arrived during
        this build is picked up by the next one), only now that every partition is in place. -#}
    {%- if has_input -%}
        {%- set state_local = scratch ~ '/' ~ dataset ~ '-' ~ invocation_id ~ '-state.parquet' -%}
        {%- call statement('record_state') -%}
            copy (
                select partition_value, fingerprint, now() as built_at
                from lake_partitions_plan
                where fingerprint is not null
                order by partition_value
            ) to '{{ state_local }}' (format parquet)
        {%- endcall -%}
        {%- do run_query(
            "select trailhouse_publish('" ~ state_local ~ "', '" ~ state_key ~ "')") -%}
    {%- endif -%}

    {#- The relation downstream models and the docs see: a view over the published files. -#}
    {%- set published = run_query(
        "select count(*) from glob('" ~ root ~ "/" ~ dataset ~ "/*/*.parquet')"
    ).columns[0].values()[0] -%}
    {% call statement('main') -%}
        create or replace view {{ target_relation }} as
        {% if published > 0 -%}
            select * from read_parquet(
                '{{ root }}/{{ dataset }}/*/*.parquet', hive_partitioning = true
            )
        {%- else -%}
            select * from ({{ compiled_code.replace(marker, 'false') }}) as model_rows where false
        {%- endif %}
    {%- endcall %}

    {{ log(dataset ~ ": rebuilt " ~ (built | length) ~ " of "
           ~ (plan.rows | length) ~ " partition(s)" ~ (" (full refresh)" if full_refresh else ""),
           info=True) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
