{#-
  The lake's write lease (ingest/lease.py) around every dbt command that writes the lake, so
  a build never interleaves with a pull, another build or a compaction of the same lake. On
  DuckDB the ingest plugin's functions take and drop it (waiting up to TRAILHOUSE_LEASE_WAIT
  seconds); a build started by `ingest watch` works under the watcher's lease. Spark has no
  Python functions: its builds take no lease (README, Known limits).
-#}
{% macro lake_lease(action) %}
    {{ return(adapter.dispatch('lake_lease', 'trailhouse')(action)) }}
{% endmacro %}

{% macro default__lake_lease(action) %}{% endmacro %}

{% macro duckdb__lake_lease(action) %}
    {%- if execute and flags.WHICH in ('build', 'run', 'seed', 'snapshot') -%}
        {%- do run_query(
            'select trailhouse_lease_' ~ ('acquire' if action == 'acquire' else 'release')
            ~ '(' ~ sql_string('dbt ' ~ flags.WHICH) ~ ')'
        ) -%}
    {%- endif -%}
{% endmacro %}
