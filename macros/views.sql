{#-
    Views on DuckDB: created only when their SQL changed. DuckDB binds a view when it is read,
    not when it is created (a view over a relation whose columns changed reads the new
    columns), so an unchanged view needs no DDL, while dbt's own view materialization
    re-creates, renames and drops every view on every build — most of an incremental build's
    time, once there are many views.

    `trailhouse_views` keeps, per view, the md5 of the SQL it was created from (`created_from`)
    and of that SQL without the lake root (`logic`: what a lake dataset's fingerprint is made
    of, so a lake moved elsewhere is not rebuilt — its views are, since they name the root).
    A view that exists and whose SQL hashes the same is left as it is; `--full-refresh`
    re-creates every view.
-#}
{% materialization view, adapter='duckdb' %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set created_from = local_md5(sql) -%}
    {%- set unchanged = false -%}
    {%- if existing is not none and existing.is_view and not should_full_refresh() -%}
        {%- set recorded = run_query(
            "select created_from from " ~ trailhouse_table('trailhouse_views') ~ " where view_name = "
            ~ sql_string(this.render())).columns[0].values() -%}
        {%- set unchanged = recorded | length == 1 and recorded[0] == created_from -%}
    {%- endif -%}

    {%- if unchanged -%}
        {{ run_hooks(pre_hooks) }}
        {% call statement('main') -%}
            select 1 /* {{ this }}: unchanged */
        {%- endcall %}
        {{ run_hooks(post_hooks) }}
        {{ return({'relations': [this.incorporate(type='view')]}) }}
    {%- endif -%}

    {%- set result = dbt.materialization_view_default() -%}
    {%- do record_view_logic(this.render(), created_from, local_md5(sql | replace(lake_root(), ''))) -%}
    {#- its data tests check every row this time (macros/build_scope.sql) -#}
    {%- do record_build_scope(this.identifier) -%}
    {%- do adapter.commit() -%}
    {{ return(result) }}
{% endmaterialization %}


{#- One of trailhouse's bookkeeping tables in trailhouse.duckdb (trailhouse_views here;
    trailhouse_build_scope and trailhouse_unchecked in macros/build_scope.sql). -#}
{% macro trailhouse_table(name) -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier=name)) }}
{%- endmacro %}


{#- Record what `key` was built from: a view (its relation), a lake_partitions model (its
    fingerprint, which downstream lake datasets' fingerprints include), or the seeds a view's
    tests last passed with (macros/build_scope.sql). -#}
{% macro record_view_logic(key, created_from, logic) %}
    {%- do run_query(
        "insert or replace into " ~ trailhouse_table('trailhouse_views') ~ " values ("
        ~ sql_string(key) ~ ", " ~ sql_string(created_from) ~ ", " ~ sql_string(logic) ~ ")") -%}
{% endmacro %}


{#- on-run-start: the table exists before the threads that read and write it start. -#}
{% macro view_logic_table() %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- do run_query(
            "create table if not exists " ~ trailhouse_table('trailhouse_views')
            ~ " (view_name varchar primary key, created_from varchar, logic varchar)") -%}
    {%- endif -%}
{% endmacro %}
