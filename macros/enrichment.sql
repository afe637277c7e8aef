{#
    The enrichment chain: ordered `int_` models between staging and a lake dataset.

    `vars.enrichment_steps.<source>` lists the steps in order. Each step selects from
    `enrichment_input(source, its own name)` — the step before it, or the staging model for the
    first — adds columns or drops rows, and the lake dataset selects from
    `enrichment_output(source)`, the last step. A step left out of the list is disabled
    (`config(enabled=is_enrichment_step(...))`), so adding, removing or reordering a step is
    one line of `dbt_project.yml`.
#}

{% macro enrichment_steps(source) -%}
    {{ return(var('enrichment_steps', {}).get(source, [])) }}
{%- endmacro %}

{% macro is_enrichment_step(source, step) -%}
    {{ return(step in enrichment_steps(source)) }}
{%- endmacro %}

{% macro enrichment_input(source, step) -%}
    {%- set steps = enrichment_steps(source) -%}
    {%- if step not in steps -%}
        {{ exceptions.raise_compiler_error(
            step ~ " is not in vars.enrichment_steps." ~ source ~ " (" ~ steps | join(", ") ~ ")") }}
    {%- endif -%}
    {%- set position = steps.index(step) -%}
    {{ return(ref(steps[position - 1]) if position > 0 else ref('stg_' ~ source ~ '__events')) }}
{%- endmacro %}

{% macro enrichment_output(source) -%}
    {%- set steps = enrichment_steps(source) -%}
    {{ return(ref(steps[-1]) if steps else ref('stg_' ~ source ~ '__events')) }}
{%- endmacro %}


{#-
    Filters before storage: `vars.storage_filters.<source>` is a list of SQL conditions over the
    step's input columns, ANDed. A row is dropped when a condition is false; a condition that is
    NULL for a row (a column it compares is NULL) keeps the row, so a filter written for one kind
    of caller never drops events it cannot judge.
-#}
{% macro storage_filter(source) -%}
    {#- The project's filters (vars.storage_filters.<source>) and each collection's own
        (`filters:` in trailhouse.yml, which `ingest pull` records in the lake): a row is
        stored when every condition holds or is NULL. -#}
    {%- set conditions = [] -%}
    {%- for condition in var('storage_filters', {}).get(source, []) -%}
        {%- do conditions.append('coalesce((' ~ condition ~ '), true)') -%}
    {%- endfor -%}
    {%- for collection, condition in collection_filters(source) -%}
        {%- do conditions.append("(collection is distinct from " ~ sql_string(collection)
            ~ " or coalesce((" ~ condition ~ "), true))") -%}
    {%- endfor -%}
    {{ conditions | join('\n        and ') if conditions else 'true' }}
{%- endmacro %}


{#- (collection, condition) pairs recorded by `ingest pull` for the collections landing in
    `source` (cloudtrail, http_access_log, custom_logs); none at parse time. -#}
{% macro collection_filters(source) -%}
    {%- set pairs = [] -%}
    {%- if execute -%}
        {%- set relation = collection_filters_relation() -%}
        {%- if relation -%}
            {%- set rows = run_query(
                "select collection, condition, " ~ canonical_filter('condition')
                ~ " from " ~ relation ~ " "
                ~ "where dataset = " ~ sql_string(source) ~ " order by collection, position"
            ).rows -%}
            {%- for row in rows -%}
                {#- Whoever can write the lake can write this file: a condition `ingest pull`
                    did not record (not in the filter grammar's canonical form) is refused. -#}
                {%- if not recorded_filter_ok(row[1], row[2]) -%}
                    {{ exceptions.raise_compiler_error(
                        "refusing the filters recorded in the lake (_state/collections/"
                        ~ "filters.parquet): collection " ~ row[0] ~ " has a condition that is "
                        ~ "not in the filter grammar; run `ingest pull` to record the config's "
                        ~ "filters again") }}
                {%- endif -%}
                {%- do pairs.append((row[0], row[1])) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(pairs) }}
{%- endmacro %}

{#- A recorded filter's canonical text (NULL: not a filter). DuckDB asks the ingest plugin's
    parser (ingest/filters.py); Spark has no Python functions, so there the text itself is
    checked by `recorded_filter_ok`. -#}
{% macro canonical_filter(column) %}
    {{ return(adapter.dispatch('canonical_filter', 'trailhouse')(column)) }}
{% endmacro %}

{% macro duckdb__canonical_filter(column) -%}
    trailhouse_filter_canonical({{ column }})
{%- endmacro %}

{% macro spark__canonical_filter(column) -%}
    {{ column }}
{%- endmacro %}

{#- Whether a condition read back from the lake may become SQL: on DuckDB, when it is already
    in the filter grammar's canonical form; on Spark, when every token is one the grammar
    allows (literals, numbers, snake_case columns, comparison operators and minus signs, the
    grammar's keywords, and calls of vars.filter_functions only). Refused there: comments,
    `;`, quoted identifiers, double-quoted strings, and any backslash (Spark reads `\'` as an
    escaped quote where DuckDB ends the literal, so one text would be two different SQLs). -#}
{% macro recorded_filter_ok(condition, canonical) %}
    {{ return(adapter.dispatch('recorded_filter_ok', 'trailhouse')(condition, canonical)) }}
{% endmacro %}

{% macro default__recorded_filter_ok(condition, canonical) %}
    {{ return(canonical is not none and condition == canonical) }}
{% endmacro %}

{% macro spark__recorded_filter_ok(condition, canonical) %}
    {#- Spark substitutes `${...}` even inside quotes (variables, env:, system:), before it
        parses: no `$` or braces at all. -#}
    {%- if condition is none or '\\' in condition or '$' in condition or '{' in condition
          or '}' in condition -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set keywords = ['and', 'or', 'not', 'like', 'ilike', 'in', 'between', 'is', 'null',
                        'true', 'false', 'escape'] -%}
    {%- set functions = var('filter_functions') -%}
    {#- A bare word is a column, except the words that start or join a query. -#}
    {%- set query_words = ['select', 'from', 'with', 'values', 'table', 'union', 'intersect',
                           'except', 'minus', 'join', 'lateral', 'insert', 'update', 'delete',
                           'merge', 'drop', 'create', 'alter', 'set', 'use',
                           'rlike', 'regexp', 'interval', 'case', 'when', 'then', 'else', 'end',
                           'distinct', 'div', 'exists', 'over', 'cast', 'as', 'user'] -%}
    {%- set found = modules.re.findall(
        "(\\s+)|('(?:[^']|'')*')|([0-9]+(?:[.][0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*)"
        ~ "|(<=>|<>|!=|<=|>=|[=<>(),-])|(.)",
        condition
    ) -%}
    {#- Whitespace separates tokens and is otherwise dropped: `f (x)` is a call too. -#}
    {%- set tokens = found | rejectattr(0) | list -%}
    {%- set ns = namespace(ok=true, depth=0) -%}
    {%- for space, literal, number, word, operator, other in tokens -%}
        {%- set next = '' if loop.last else loop.nextitem[4] -%}
        {#- parentheses must balance: the condition stays inside the one the build puts it in -#}
        {%- set ns.depth = ns.depth + (1 if operator == '(' else -1 if operator == ')' else 0) -%}
        {%- if other or ns.depth < 0 or (operator == '-' and next == '-') -%}
            {%- set ns.ok = false -%}
        {%- elif not word or word | lower in keywords -%}
            {#- a literal, a number, an operator or a keyword (`in (...)` is not a call) -#}
        {%- elif next == '(' -%}
            {%- if word | lower not in functions -%}
                {%- set ns.ok = false -%}
            {%- endif -%}
        {%- elif word in query_words or word.startswith(('current_', 'session_'))
                 or not modules.re.fullmatch('[a-z][a-z0-9_]*', word) -%}
            {%- set ns.ok = false -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ns.ok and ns.depth == 0 and tokens | length > 0) }}
{% endmacro %}

{#- The relation holding the recorded filters, or none when no collection has any. -#}
{% macro collection_filters_relation() %}
    {{ return(adapter.dispatch('collection_filters_relation', 'trailhouse')()) }}
{% endmacro %}

{% macro duckdb__collection_filters_relation() -%}
    {%- set found = run_query(
        "select count(*) from glob(" ~ sql_string(lake_root() ~ "/_state/collections/*.parquet")
        ~ ") where file like '%/filters.parquet'"
    ).columns[0].values()[0] -%}
    {{ return("read_parquet(" ~ sql_string(lake_root() ~ "/_state/collections/filters.parquet")
              ~ ")" if found else none) }}
{%- endmacro %}

{#- Spark reads the same file through a table with its columns, so a lake without it (no
    collection has filters) reads as no rows. -#}
{% macro spark__collection_filters_relation() -%}
    {%- do run_query("create schema if not exists landing") -%}
    {%- do run_query("drop table if exists landing.collection_filters") -%}
    {%- do run_query(
        "create table landing.collection_filters (collection string, dataset string, "
        ~ "position int, condition string) using parquet options (pathGlobFilter "
        ~ "'filters.parquet') location " ~ sql_string(lake_root() ~ "/_state/collections")
    ) -%}
    {{ return("landing.collection_filters") }}
{%- endmacro %}


{#-
    A landing-zone source that may not exist yet (no web logs landed on this lake): its files
    under `<lake>/landing/<dataset>/` when it has some, otherwise no rows with its columns
    (`columns`: name → type), so views over it still build. Re-evaluated by every build.
    The lake's path is read when the model runs, never when dbt parses: a parse then holds
    nothing of one lake and serves any other (dbt's partial parse survives a new lake).
-#}
{% macro landing_or_empty(source_relation, dataset, columns) %}
    {{ return(adapter.dispatch('landing_or_empty', 'trailhouse')(source_relation, dataset, columns)) }}
{% endmacro %}

{% macro duckdb__landing_or_empty(source_relation, dataset, columns) -%}
    {%- set has_files = false -%}
    {#- In a unit test the source is the test's fixture (a CTE), whatever the lake holds. -#}
    {%- if (source_relation | string).startswith('__dbt__cte__') -%}
        {{ return(source_relation) }}
    {%- endif -%}
    {%- if execute -%}
        {%- set files = lake_root() ~ "/landing/" ~ dataset ~ "/*/*.parquet" -%}
        {%- set has_files = lake_file_count(files) > 0 -%}
    {%- endif -%}
    {%- if has_files -%}
        read_parquet({{ sql_string(files) }}, hive_partitioning = true, union_by_name = true)
    {%- else -%}
        (
            select
                {%- for name, type in columns.items() %}
                cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
                {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}

{#- Spark: the source is a catalog table over the landing directory, declared with its
    columns (so an empty or missing directory reads as no rows) and re-declared by every build,
    as ingest may have added columns since. Partitions are found by listing, not registered. -#}
{% macro spark__landing_or_empty(source_relation, dataset, columns) -%}
    {%- if execute -%}
        {%- set types = {'varchar': 'string', 'timestamptz': 'timestamp', 'json': 'string'} -%}
        {%- set declared = [] -%}
        {%- for name, type in columns.items() -%}
            {%- do declared.append(name ~ ' ' ~ types.get(type, type)) -%}
        {%- endfor -%}
        {%- do run_query("create schema if not exists " ~ source_relation.schema) -%}
        {%- do run_query("drop table if exists " ~ source_relation) -%}
        {%- do run_query(
            "create table " ~ source_relation ~ " (" ~ declared | join(', ')
            ~ ") using parquet partitioned by (event_date) location "
            ~ sql_string(lake_root() ~ "/landing/" ~ dataset)
        ) -%}
    {%- endif -%}
    {{ source_relation }}
{%- endmacro %}
