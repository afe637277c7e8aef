{#
    lake_partitions: an incremental, crash-safe, hive-partitioned Parquet dataset in the lake.

    dbt-duckdb's `external` models rewrite every partition on every run. This materialization
    does the least work each partition needs, judged from the partitioned input the model is
    `driven_by` (for `cloudtrail_events`, the landing zone) and its `watermark` column (when
    each input row landed):

      keep    nothing new landed for the partition since its last build;
      merge   only rows newer than the recorded watermark arrived: the new rows are computed
              from the new input alone, rows whose `unique_key` the partition already holds are
              dropped (only that column of the published files is read), and the rest are
              appended as one more file of the partition (`data_<n>.parquet`), so a merge
              writes what is new, not the day;
      compact a merge into a partition that reached `max_files` files (default: the var
              `max_files_per_partition`, 16): the
              published rows and the new ones are written as the partition's one file;
      build   the partition is new, its output is missing, older input changed or vanished
              (compaction keeps rows and watermarks, so it does not count; forgetting inputs
              does), the partition holds files another engine (Spark) wrote or files it did
              not hold when the state was recorded, the model's SQL
              or an upstream view's SQL changed,
              a changed upstream seed, or `--full-refresh`: the partition is computed from all
              of its input;
      remove  the partition's input is gone.

    Config: `partition_by` (the output's partition column), `driven_by` (the partitioned input,
    relative to the lake root, or a list of them), `watermark` (its landed-at column), `unique_key` (optional:
    without it a grown partition is rebuilt instead of merged, as `alerts` needs, since new
    events change existing alerts), `input_partition_by` (the input's partition column when it
    is named differently: alerts are partitioned by `alert_date`, driven by `event_date`),
    `order_by` (the row order inside each file), `row_group_size` (default 16384 rows) and
    `max_files` (above).

    The state per partition (logic hash, watermark, input rows, file names) is at
    `<lake>/_state/dbt/<model>.parquet`. Each partition is computed with the model's SQL, where
    `{{ lake_partition_filter() }}` (`true` everywhere else: unit tests, compile, lint) becomes
    the partition and watermark range, so DuckDB prunes the input to those files and row groups.
    Input that lands during the build is left for the next build.

    Crash safety: every file is written to local scratch and published in one step by the
    ingest plugin (a rename on a local lake, one PUT on S3), so readers see a partition's old
    files or the new one too, never a partial file, and a merge's file holds only rows the
    partition did not, so no row is there twice. The state (with each partition's file names)
    is recorded only after every partition is published; after a crash before that, a partition
    whose files no longer match the state is rebuilt, and the others redo their work. A build or
    a compaction replaces the partition's files with one under a name the partition never had
    (publish, then remove the others), so an interrupted replacement never matches the state: a
    reader in between can see a row twice, but the next build repairs it.
#}

{#- How many files match a glob `pattern` (a local path or s3:// URL). Give a wildcard: on S3,
    glob() of a literal key returns it whether or not it exists. -#}
{% macro lake_file_count(pattern) -%}
    {{ return(run_query("select count(*) from glob(" ~ sql_string(pattern) ~ ")").columns[0].values()[0]) }}
{%- endmacro %}


{#- The lake root (TRAILHOUSE_LAKE): dbt-duckdb's external_root; Spark reads the variable. -#}
{% macro lake_root() %}
    {{ return(adapter.dispatch('lake_root', 'trailhouse')()) }}
{% endmacro %}

{% macro duckdb__lake_root() -%}
    {{ return(adapter.external_root()) }}
{%- endmacro %}

{% macro spark__lake_root() -%}
    {{ return(env_var('TRAILHOUSE_LAKE', './lake')) }}
{%- endmacro %}


{% macro lake_partition_filter() -%}
    true /* lake_partitions:filter */
{%- endmacro %}


{#- A condition on `column`, a date partition column of a dataset a lake_partitions model
    reads as history (the baselines first-seen detections read): when a partition is built it
    becomes `column` within `days` before the partition's day, so the read is pruned to those
    partitions; `true` everywhere else. -#}
{% macro lake_partition_window(column, days) -%}
    true /* lake_partitions:window {{ column }} {{ days | int }} */
{%- endmacro %}


{#- The rows the model itself already published in the partition being built (`columns`: a
    mapping of column name → SQL type), which a build can keep something of (alerts keep their
    ids); none outside a partition build or when the partition is new. A marker, so the
    model's SQL, and with it its logic fingerprint, is the same either way. -#}
{% macro lake_published(columns) -%}
    (select {% for column, type in columns.items() %}cast(null as {{ type }}) as {{ column }}{{ ', ' if not loop.last }}{% endfor %} where false) /* lake_partitions:published {{ columns.keys() | join(',') }} */
{%- endmacro %}


{#- A lake dataset that a lake_partitions model reads many times over (every detection reads
    the day's events): each partition build reads its rows once, into a temporary table that
    every reference shares, instead of scanning the Parquet files once per reference. -#}
{% macro lake_working_set(relation) -%}
    {{ relation }} /* lake_partitions:working_set */
{%- endmacro %}


{#- SQL: the md5 of the content of every seed in `nodes` (a changed inventory or rule seed
    changes what the models reading it return). -#}
{% macro seed_content_md5(nodes) -%}
    md5(''
    {%- for node in nodes if node.resource_type == 'seed' %}
        || coalesce((
            select md5(string_agg(cast(seed_row as varchar), ';' order by cast(seed_row as varchar)))
            from {{ api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias or node.name
            ) }} as seed_row
        ), '')
    {%- endfor %})
{%- endmacro %}


{#- SQL: each partition of `dataset` that has files, with their names sorted (`files`), from
    one listing. -#}
{% macro _partition_files(root, dataset, partition_by) -%}
    select
        regexp_extract(file, '/{{ partition_by }}=([^/]+)/[^/]+$', 1) as partition_value,
        list_sort(list(regexp_extract(file, '[^/]+$'))) as files
    from glob({{ sql_string(root ~ '/' ~ dataset ~ '/*/*.parquet') }})
    group by 1
{%- endmacro %}


{% macro _lake_upstream(node) %}
    {#- Every model and seed upstream of `node`, found by walking the graph breadth-first. -#}
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
    {%- set nodes = [] -%}
    {%- for unique_id in ns.seen -%}
        {%- set parent = graph.nodes.get(unique_id) -%}
        {%- if parent is not none and parent.resource_type in ('model', 'seed') -%}
            {%- do nodes.append(parent) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nodes) }}
{% endmacro %}


{% materialization lake_partitions, adapter='duckdb' %}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set driven_by = config.require('driven_by') -%}
    {#- One partitioned input, or several with the same partition and watermark columns
        (`alerts` is driven by every dataset that has detections). -#}
    {%- set inputs = [driven_by] if driven_by is string else driven_by -%}
    {#- Only inputs that have files: read_parquet fails on a pattern that matches nothing. -#}
    {%- set input_globs = [] -%}
    {%- for input in inputs -%}
        {%- set pattern = lake_root() ~ "/" ~ input ~ "/*/*.parquet" -%}
        {%- if lake_file_count(pattern) > 0 -%}
            {%- do input_globs.append(sql_string(pattern)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set input_files = "[" ~ input_globs | join(", ") ~ "]" -%}
    {%- set watermark = config.require('watermark') -%}
    {#- Without a unique_key, a partition whose input grew is rebuilt rather than merged. -#}
    {%- set unique_key = config.get('unique_key') -%}
    {#- A merge adds the new rows as one more file of the partition; once a partition has
        `max_files` files, the next merge compacts it into one. -#}
    {%- set max_files = config.get('max_files', var('max_files_per_partition', 16)) | int -%}
    {#- The input's partition column, when it is named differently (alerts: event_date). -#}
    {%- set input_partition_by = config.get('input_partition_by', partition_by) -%}
    {#- A partition built from its day's input also reads the previous day's last
        `input_lookback` minutes (by the input's `input_time` column), for windows that cross
        midnight; a change to a day's input then rebuilds the next day too. -#}
    {%- set input_lookback = config.get('input_lookback', 0) | int -%}
    {%- set input_time = config.get('input_time', 'event_time') -%}
    {#- `content_key`: the columns whose set of values is what readers of this dataset's history
        depend on (baselines: kind, subject, key); the state keeps a hash of it per partition. -#}
    {%- set content_key = config.get('content_key') -%}
    {#- `history`: lake datasets read as history, each with the days before a partition it
        reads ({'baseline_days': 90}): a partition is rebuilt when the content of those days
        changed since it was built (a late event for an old day changes what was new after it). -#}
    {%- set history = config.get('history', {}) -%}
    {#- Rows sorted (`order_by`) in row groups of `row_group_size`: readers that want a time
        range skip whole row groups by their statistics, and a replay reads a day in order
        a few megabytes at a time. -#}
    {%- set order_by = config.get('order_by') -%}
    {%- set order_clause = 'order by ' ~ order_by if order_by else '' -%}
    {%- set file_options = 'format parquet, compression zstd, row_group_size '
        ~ config.get('row_group_size', 16384) -%}
    {%- set root = lake_root() -%}
    {%- set dataset = this.identifier -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set marker = lake_partition_filter() -%}
    {%- set full_refresh = should_full_refresh() -%}
    {%- set scratch = run_query('select trailhouse_scratch()').columns[0].values()[0] -%}
    {%- set state_key = '_state/dbt/' ~ dataset ~ '.parquet' -%}

    {%- set working_set_marker = lake_working_set('') -%}
    {%- set working_sets = [] -%}
    {%- for relation in modules.re.findall('(\\S+)' ~ modules.re.escape(working_set_marker), compiled_code) -%}
        {%- if relation not in working_sets -%}{%- do working_sets.append(relation) -%}{%- endif -%}
    {%- endfor -%}

    {%- if marker not in compiled_code -%}
        {{ exceptions.raise_compiler_error(
            "lake_partitions model " ~ dataset ~ " must filter its partitioned input with "
            ~ "{{ lake_partition_filter() }}, or every partition would read everything") }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- The logic fingerprint: this model's SQL, the SQL of every upstream view and the
        fingerprint of every upstream lake dataset (macros/views.sql), and the
        content of every upstream seed (editing the inventory re-enriches the lake). The lake
        root is left out: a lake moved or restored elsewhere holds the same data. -#}
    {%- set upstream = _lake_upstream(model) -%}
    {%- set logic_query -%}
        select md5(
            {{ sql_string(local_md5(compiled_code | replace(root, ''))) }}
            || coalesce((
                -- each upstream view's compiled SQL, as recorded when it was created
                -- (macros/views.sql)
                select string_agg(logic, ';' order by view_name)
                from {{ trailhouse_table('trailhouse_views') }}
                where view_name in (''
                    {%- for node in upstream if node.resource_type == 'model' -%}
                        , {{ sql_string(api.Relation.create(
                            database=node.database, schema=node.schema,
                            identifier=node.alias or node.name).render()) }}
                    {%- endfor -%})
            ), '')
            || {{ seed_content_md5(upstream) }}
        )
    {%- endset -%}
    {%- set logic = run_query(logic_query).columns[0].values()[0] -%}

    {%- set has_input = input_globs | length > 0 -%}
    {%- set has_output = lake_file_count(root ~ "/" ~ dataset ~ "/*/*.parquet") > 0 -%}
    {#- A wildcard, because glob() of a literal S3 key returns it whether or not it exists. -#}
    {%- set has_state = run_query(
        "select count(*) from glob(" ~ sql_string(root ~ "/_state/dbt/*.parquet") ~ ") "
        ~ "where file like " ~ sql_string("%/" ~ dataset ~ ".parquet")
    ).columns[0].values()[0] > 0 -%}
    {%- if has_state -%}
        {#- State written by an older trailhouse lacks these columns: rebuild everything. -#}
        {%- set state_columns = run_query(
            "select name from parquet_schema(" ~ sql_string(root ~ "/" ~ state_key) ~ ")"
        ).columns[0].values() -%}
        {%- set has_state = 'logic' in state_columns and 'file_names' in state_columns -%}
    {%- endif -%}
    {#- each history dataset's state: its partitions' content hashes (file names for a state
        written before content hashes; any change of them then counts as a change) -#}
    {%- set history_states = [] -%}
    {%- for name, days in history.items() -%}
        {%- set history_state = root ~ '/_state/dbt/' ~ name ~ '.parquet' -%}
        {%- set found = run_query(
            "select count(*) from glob(" ~ sql_string(root ~ "/_state/dbt/*.parquet") ~ ") "
            ~ "where file like " ~ sql_string("%/" ~ name ~ ".parquet")).columns[0].values()[0] -%}
        {%- set columns = run_query(
            "select name from parquet_schema(" ~ sql_string(history_state) ~ ")"
        ).columns[0].values() if found else [] -%}
        {%- if 'file_names' in columns -%}
            {%- do history_states.append((
                name, history_state, days | int,
                'coalesce(content_hash, array_to_string(file_names, \',\'))'
                    if 'content_hash' in columns else "array_to_string(file_names, ',')")) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set plan_query -%}
        create or replace temp table lake_partitions_plan as
        with

        recorded as (
            {% if has_state and not full_refresh %}
            select
                partition_value, logic, high_mark, input_rows, file_names,
                {{ 'content_hash' if 'content_hash' in state_columns else 'null::varchar' }}
                    as content_hash,
                {{ 'history_mark' if 'history_mark' in state_columns else 'null::varchar' }}
                    as history_mark
            from read_parquet({{ sql_string(root ~ '/' ~ state_key) }})
            {% else %}
            select
                null::varchar as partition_value,
                null::varchar as logic,
                null::timestamptz as high_mark,
                null::bigint as input_rows,
                null::varchar[] as file_names,
                null::varchar as content_hash,
                null::varchar as history_mark
            where false
            {% endif %}
        ),

        history as (
            {%- for name, state, days, mark in history_states %}
            select
                {{ sql_string(name) }} as dataset, {{ days }} as days, partition_value,
                {{ mark }} as mark
            from read_parquet({{ sql_string(state) }})
            union all
            {%- endfor %}
            select
                null::varchar as dataset, null::integer as days, null::varchar as partition_value,
                null::varchar as mark
            where false
        ),

        inputs as (
            {% if has_input %}
            {#- Only the partition and watermark columns are read: cheap at any lake size. -#}
            select
                cast(landed.{{ input_partition_by }} as varchar) as partition_value,
                count(*) as input_rows,
                max(landed.{{ watermark }}) as high_mark,
                count(*) filter (
                    where landed.{{ watermark }} <= recorded.high_mark
                ) as rows_at_recorded_mark
            from read_parquet(
                {{ input_files }}, hive_partitioning = true, union_by_name = true
            ) as landed
            left join recorded
                on cast(landed.{{ input_partition_by }} as varchar) = recorded.partition_value
            group by 1
            {% else %}
            select
                null::varchar as partition_value,
                null::bigint as input_rows,
                null::timestamptz as high_mark,
                null::bigint as rows_at_recorded_mark
            where false
            {% endif %}
        ),

        outputs as (
            {% if has_output %}
            select
                partition_value,
                files,
                -- our files are data_<n>.parquet; files another engine wrote make it a rebuild
                list_bool_and(list_transform(files, name -> regexp_matches(name, '^data_[0-9]+[.]parquet$')))
                    as is_ours,
                list_max(list_transform(
                    files, name -> try_cast(regexp_extract(name, '^data_([0-9]+)[.]parquet$', 1) as bigint)
                )) as last_file
            from ({{ _partition_files(root, dataset, partition_by) }}) as listed
            {% else %}
            select
                null::varchar as partition_value,
                null::varchar[] as files,
                null::boolean as is_ours,
                null::bigint as last_file
            where false
            {% endif %}
        )

        select
            coalesce(inputs.partition_value, outputs.partition_value) as partition_value,
            inputs.input_rows,
            inputs.high_mark,
            -- as text with every microsecond, to go back into SQL as a literal
            strftime(recorded.high_mark at time zone 'UTC', '%Y-%m-%d %H:%M:%S.%f+00')
                as recorded_mark,
            -- why the partition needs work (the build's log counts the reasons)
            case
                when inputs.partition_value is null then 'input gone'
                when outputs.partition_value is null then 'new'
                when not outputs.is_ours then 'files of another engine'
                -- files came or went since the last recorded build (a build stopped between
                -- publishing and recording): rebuilt, so no row is ever there twice. Every
                -- file written gets a name the partition never had, so an interrupted
                -- replacement can never look like the recorded set again.
                when outputs.files is distinct from recorded.file_names then 'files changed'
                when recorded.logic is distinct from {{ sql_string(logic) }} then 'logic changed'
                when inputs.rows_at_recorded_mark != recorded.input_rows then 'older input changed'
                when inputs.input_rows = recorded.input_rows then 'unchanged'
                else 'new input'
            end as reason,
            case reason
                when 'input gone' then 'remove'
                when 'unchanged' then 'keep'
                {% if unique_key -%}
                -- only newer rows: appended, or the partition compacted once it has max_files
                when 'new input' then
                    case when len(outputs.files) >= {{ max_files }} then 'compact' else 'merge' end
                {% endif -%}
                else 'build'
            end as action,
            coalesce(outputs.last_file, -1) + 1 as next_file,
            coalesce(outputs.files, []) as published_files,
            recorded.content_hash as recorded_content_hash,
            recorded.history_mark as recorded_history_mark,
            {% if history -%}
            (
                select md5(coalesce(to_json(list(
                    [history.dataset, history.partition_value, history.mark]
                    order by history.dataset, history.partition_value
                )), '[]'))
                from history
                where
                    history.partition_value < coalesce(inputs.partition_value, outputs.partition_value)
                    and history.partition_value >= strftime(
                        try_cast(coalesce(inputs.partition_value, outputs.partition_value) as date)
                        - history.days, '%Y-%m-%d')
            )
            {%- else -%}
            null::varchar
            {%- endif %} as history_mark
        from inputs
        full outer join outputs on inputs.partition_value = outputs.partition_value
        left join recorded on inputs.partition_value = recorded.partition_value
    {%- endset -%}
    {%- do run_query(plan_query) -%}
    {%- if history -%}
        {%- do run_query(
            "update lake_partitions_plan set action = 'build', reason = 'history changed' "
            ~ "where action in ('keep', 'merge', 'compact') "
            ~ "and history_mark is distinct from recorded_history_mark") -%}
    {%- endif -%}
    {%- if input_lookback > 0 -%}
        {%- do run_query(
            "update lake_partitions_plan set action = 'build', reason = 'day before changed' "
            ~ "where action in ('keep', 'merge', 'compact') and partition_value in ("
            ~ "select strftime(try_cast(partition_value as date) + 1, '%Y-%m-%d') "
            ~ "from lake_partitions_plan where action != 'keep')") -%}
    {%- endif -%}
    {#- A partition value becomes part of file paths and globs: a folder in the lake named
        anything but a day (`event_date=*`, `event_date=..`) stops the build. -#}
    {%- set strange = run_query(
        "select count(*) from lake_partitions_plan where not regexp_full_match("
        ~ "coalesce(partition_value, ''), '[0-9]{4}-[0-9]{2}-[0-9]{2}')").columns[0].values()[0] -%}
    {%- if strange > 0 -%}
        {{ exceptions.raise_compiler_error(
            dataset ~ ": " ~ strange ~ " partition folder(s) of " ~ (inputs | join(', ')) ~ " or "
            ~ dataset ~ " are not named " ~ partition_by ~ "=YYYY-MM-DD; move them out of the lake") }}
    {%- endif -%}
    {%- do record_build_scope(dataset, 'lake_partitions_plan') -%}
    {%- set reasons = run_query(
        "select string_agg(action || ' ' || n || ': ' || reason, ', ' order by action, reason) "
        ~ "from (select action, reason, count(*) as n from lake_partitions_plan "
        ~ "where action != 'keep' group by all)").columns[0].values()[0] -%}
    {%- set plan = run_query(
        "select partition_value, action, recorded_mark, "
        ~ "strftime(high_mark at time zone 'UTC', '%Y-%m-%d %H:%M:%S.%f+00'), next_file, "
        ~ "array_to_string(published_files, '/'), recorded_content_hash "
        ~ "from lake_partitions_plan order by 1") -%}
    {%- do run_query(
        "create or replace temp table lake_partitions_content "
        ~ "(partition_value varchar, content_hash varchar)") -%}

    {#- Only the columns the model's SQL names (as a whole word, anywhere), and those the
        partition filter reads: a column is read
        only by naming it, and leaving out the ones nobody names (the raw record, when no
        detection reads it) is most of what a working set saves. Asked only when a partition
        is built (describing the relation lists and opens the dataset's files). -#}
    {%- set working_set_columns = {} -%}
    {#- whole-line comments name no column: leave them out -#}
    {%- set code_without_comments = modules.re.sub('(?m)^[ \t]*--.*$', '', compiled_code) -%}
    {%- for relation in working_sets if 'build' in plan.columns[1].values() -%}
        {%- set named = [] -%}
        {%- for column in run_query(
                "select column_name from (describe select * from " ~ relation ~ ")").columns[0].values()
            if column in [input_partition_by, watermark, input_time]
            or modules.re.search('(?i)(?<![A-Za-z0-9_])' ~ modules.re.escape(column) ~ '(?![A-Za-z0-9_])', code_without_comments) -%}
            {#- a column name is the Parquet file's: quoted with its quotes doubled -#}
            {%- do named.append('"' ~ column | replace('"', '""') ~ '"') -%}
        {%- endfor -%}
        {%- do working_set_columns.update({relation: named}) -%}
    {%- endfor -%}

    {%- set counts = {'build': 0, 'merge': 0, 'compact': 0, 'remove': 0} -%}
    {%- for row in plan.rows -%}
        {%- set value, action, recorded_mark, high_mark, next_file = row[0], row[1], row[2], row[3], row[4] -%}
        {#- file names hold no `/`: the list travels as one string -#}
        {%- set published_files = (row[5] or '').split('/') | reject('equalto', '') | list -%}
        {%- set key = dataset ~ '/' ~ partition_by ~ '=' ~ value -%}
        {%- set published_name = key ~ "/data_" ~ next_file ~ ".parquet" -%}
        {%- set local = scratch ~ '/' ~ dataset ~ '-' ~ invocation_id ~ '-' ~ value ~ '.parquet' -%}
        {%- set in_partition = '(' ~ input_partition_by ~ " = " ~ sql_string(value) ~ " and "
            ~ watermark ~ " <= " ~ sql_string(high_mark) -%}
        {%- if action == 'build' -%}
            {%- set code = namespace(sql=compiled_code.replace(marker, in_partition ~ ')')) -%}
            {%- if published_files | length > 0 -%}
                {%- set published = [] -%}
                {%- for name in published_files -%}
                    {%- do published.append(sql_string(root ~ '/' ~ key ~ '/' ~ name)) -%}
                {%- endfor -%}
                {%- for empty, columns in modules.re.findall(
                        '([(]select [^/]* where false[)]) /[*] lake_partitions:published ([a-z0-9_,]+) [*]/',
                        code.sql) -%}
                    {%- set code.sql = code.sql.replace(
                        empty ~ ' /* lake_partitions:published ' ~ columns ~ ' */',
                        '(select ' ~ columns.replace(',', ', ') ~ ' from read_parquet(['
                        ~ published | join(', ') ~ ']))') -%}
                {%- endfor -%}
            {%- endif -%}
            {%- for column, days in modules.re.findall(
                    'true /\\* lake_partitions:window (\\S+) ([0-9]+) \\*/', code.sql) -%}
                {%- set code.sql = code.sql.replace(
                    lake_partition_window(column, days),
                    '(' ~ column ~ ' >= cast(' ~ sql_string(value) ~ ' as date) - ' ~ days
                    ~ ' and ' ~ column ~ ' <= cast(' ~ sql_string(value) ~ ' as date))') -%}
            {%- endfor -%}
            {%- for relation in working_sets -%}
                {%- set working_set = 'lake_working_set_' ~ loop.index -%}
                {% call statement('working_set_' ~ value ~ '_' ~ loop.index) -%}
                    create or replace temp table {{ working_set }} as
                    select {{ working_set_columns[relation] | join(', ') }}
                    from {{ relation }}
                    {%- if input_lookback > 0 %}
                    {%- set day_before = (modules.datetime.date.fromisoformat(value)
                        - modules.datetime.timedelta(days=1)).isoformat() %}
                    where (
                        {{ input_partition_by }} = {{ sql_string(value) }}
                        or (
                            {{ input_partition_by }} = {{ sql_string(day_before) }}
                            and {{ input_time }} >= cast({{ sql_string(value ~ ' 00:00:00+00') }} as timestamptz)
                                - interval {{ input_lookback }} minute
                        )
                    ) and {{ watermark }} <= {{ sql_string(high_mark) }}
                    {%- else %}
                    where {{ in_partition }})
                    {%- endif %}
                {%- endcall %}
                {%- set code.sql = code.sql.replace(relation ~ working_set_marker, working_set) -%}
            {%- endfor %}
            {% call statement('build_' ~ value) -%}
                copy (
                    select * exclude ({{ partition_by }})
                    from ({{ code.sql }}) as model_rows
                    {{ order_clause }}
                ) to {{ sql_string(local) }} ({{ file_options }})
            {%- endcall %}
            {%- for relation in working_sets -%}
                {%- do run_query('drop table if exists lake_working_set_' ~ loop.index) -%}
            {%- endfor -%}
        {%- elif action in ('merge', 'compact') -%}
            {%- set arrived_sql = compiled_code.replace(
                marker, in_partition ~ ' and ' ~ watermark ~ " > " ~ sql_string(recorded_mark) ~ ")") -%}
            {#- A merge reads only the published keys and writes the new rows alone, as one
                more file of the partition; a compaction (the partition reached `max_files`)
                writes the published rows and the new ones as its one file. -#}
            {% call statement(action ~ '_' ~ value) -%}
                copy (
                    with

                    published as (
                        select * from read_parquet(
                            {{ sql_string(root ~ '/' ~ key ~ '/*.parquet') }}, hive_partitioning = false
                        )
                    ),

                    arrived as (
                        select * exclude ({{ partition_by }})
                        from ({{ arrived_sql }}) as model_rows
                    )

                    select * from (
                        {% if action == 'compact' -%}
                        select * from published
                        union all by name
                        {% endif -%}
                        select * from arrived
                        where not exists (
                            select 1 from published
                            where published.{{ unique_key }} = arrived.{{ unique_key }}
                        )
                    ) as merged
                    {{ order_clause }}
                ) to {{ sql_string(local) }} ({{ file_options }})
            {%- endcall %}
        {%- elif action == 'remove' -%}
            {%- do run_query("select trailhouse_delete_prefix(" ~ sql_string(key ~ "/") ~ ")") -%}
        {%- endif -%}
        {%- if action == 'merge' -%}
            {#- New rows the partition already held (a record delivered again) add no file. -#}
            {%- if run_query("select count(*) from read_parquet(" ~ sql_string(local) ~ ")").columns[0].values()[0] > 0 -%}
                {%- do run_query(
                    "select trailhouse_publish(" ~ sql_string(local) ~ ", "
                    ~ sql_string(published_name) ~ ")") -%}
            {%- endif -%}
        {%- elif action in ('build', 'compact') -%}
            {%- do run_query(
                "select trailhouse_publish(" ~ sql_string(local) ~ ", "
                ~ sql_string(published_name) ~ ")") -%}
            {#- The partition is that one file: its other files (earlier merges', or Spark's)
                are in it already (a compaction read them; a build recomputed their rows). -#}
            {%- do run_query(
                "select trailhouse_keep_only(" ~ sql_string(key ~ "/") ~ ", "
                ~ sql_string(published_name) ~ ")") -%}
        {%- endif -%}
        {%- if action != 'keep' -%}
            {%- do counts.update({action: counts[action] + 1}) -%}
        {%- endif -%}
        {#- The content hash of the partition as published (only its own files are read);
            also for a kept partition whose state predates content hashes. -#}
        {%- if content_key and action != 'remove' and (action != 'keep' or row[6] is none) -%}
            {%- do run_query(
                "insert into lake_partitions_content select " ~ sql_string(value) ~ ", "
                ~ "md5(coalesce(to_json(list(list_value(" ~ content_key ~ ") order by "
                ~ content_key ~ ")), '[]')) from read_parquet("
                ~ sql_string(root ~ '/' ~ key ~ '/*.parquet') ~ ", hive_partitioning = false)") -%}
        {%- endif -%}
    {%- endfor -%}

    {#- How many input rows of the written partitions the model left out (filters before
        storage); duplicates of one `unique_key` count once. Only key columns are read. -#}
    {%- set filtered = 0 -%}
    {%- if unique_key and counts['build'] + counts['merge'] + counts['compact'] > 0 -%}
        {%- set filtered = run_query(
            "with written as (select partition_value, high_mark from lake_partitions_plan "
            ~ "where action in ('build', 'merge', 'compact')), "
            ~ "landed as (select count(distinct landed." ~ unique_key ~ ") as n "
            ~ "from read_parquet(" ~ input_files ~ ", "
            ~ "hive_partitioning = true, union_by_name = true) as landed inner join written "
            ~ "on cast(landed." ~ input_partition_by ~ " as varchar) = written.partition_value "
            ~ "and landed." ~ watermark ~ " <= written.high_mark), "
            ~ "stored as (select count(*) as n from read_parquet("
            ~ sql_string(root ~ "/" ~ dataset ~ "/*/*.parquet")
            ~ ", hive_partitioning = true) as stored inner join written "
            ~ "on cast(stored." ~ partition_by ~ " as varchar) = written.partition_value) "
            ~ "select landed.n - stored.n from landed, stored"
        ).columns[0].values()[0] -%}
    {%- endif -%}

    {#- Record what each partition now holds (as planned: input that landed during this build
        is left for the next), only now that every partition is in place. -#}
    {%- if has_input -%}
        {%- set state_local = scratch ~ '/' ~ dataset ~ '-' ~ invocation_id ~ '-state.parquet' -%}
        {%- call statement('record_state') -%}
            copy (
                with

                published as (
                    {{ _partition_files(root, dataset, partition_by) }}
                )

                select
                    plan.partition_value,
                    {{ sql_string(logic) }} as logic,
                    plan.high_mark,
                    plan.input_rows,
                    -- the files the partition is now made of: any other set later (a build
                    -- stopped before it recorded) makes the next build rebuild it
                    published.files as file_names,
                    coalesce(content.content_hash, plan.recorded_content_hash) as content_hash,
                    plan.history_mark,
                    now() as built_at
                from lake_partitions_plan as plan
                left join published on plan.partition_value = published.partition_value
                left join lake_partitions_content as content
                    on plan.partition_value = content.partition_value
                where plan.input_rows is not null
                order by plan.partition_value
            ) to {{ sql_string(state_local) }} (format parquet)
        {%- endcall -%}
        {%- do run_query(
            "select trailhouse_publish(" ~ sql_string(state_local) ~ ", "
            ~ sql_string(state_key) ~ ")") -%}
    {%- endif -%}

    {%- do record_view_logic(this.render(), logic, logic) -%}

    {#- The relation downstream models and the docs see: a view over the published files. -#}
    {%- set published = lake_file_count(root ~ "/" ~ dataset ~ "/*/*.parquet") -%}
    {% call statement('main') -%}
        create or replace view {{ target_relation }} as
        {% if published > 0 -%}
            select * from read_parquet(
                {{ sql_string(root ~ '/' ~ dataset ~ '/*/*.parquet') }}, hive_partitioning = true
            )
        {%- else -%}
            select * from ({{ compiled_code.replace(marker, 'false') }}) as model_rows where false
        {%- endif %}
    {%- endcall %}

    {{ log(dataset ~ ": rebuilt " ~ counts['build'] ~ ", merged " ~ counts['merge']
           ~ ", removed " ~ counts['remove'] ~ " of " ~ (plan.rows | length) ~ " partition(s)"
           ~ (", " ~ counts['compact'] ~ " compacted" if counts['compact'] else "")
           ~ (" (full refresh)" if full_refresh else "")
           ~ ("; " ~ filtered ~ " row(s) of them filtered before storage" if filtered else "")
           ~ (" [" ~ reasons ~ "]" if reasons else ""),
           info=True) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#-
    lake_partitions on Spark: the same dataset at the same place (<lake>/<model>/<partition>=…/),
    written by one Spark job over all of the input. Spark is the engine for lakes too large for
    one machine, where a job over the input is split across executors, so there is no partition
    plan: every partition with input is recomputed and replaced (dynamic partition overwrite:
    partitions the job does not write stay as they were; `--full-refresh` replaces the whole
    dataset). Each partition is written as one file, rows in `order_by` order, and published by
    Spark's commit protocol (files appear in a partition when its task commits).
    The relation is an external catalog table over the directory; its partitions are listed
    from storage on every read (`spark.sql.hive.manageFilesourcePartitions` is off in the
    profile), so partitions written by DuckDB or by another job are read too.
-#}
{% materialization lake_partitions, adapter='spark' %}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set order_by = config.get('order_by') -%}
    {%- set marker = lake_partition_filter() -%}
    {%- set location = lake_root() ~ '/' ~ this.identifier -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set rows_view = this.identifier ~ '__lake_rows' -%}

    {%- if marker not in compiled_code -%}
        {{ exceptions.raise_compiler_error(
            "lake_partitions model " ~ this.identifier ~ " must filter its partitioned input with "
            ~ "{{ lake_partition_filter() }}") }}
    {%- endif -%}

    {{ run_hooks(pre_hooks) }}

    {% call statement('rows') -%}
        create or replace temporary view {{ rows_view }} as
        {{ compiled_code.replace(marker, 'true') }}
    {%- endcall %}
    {%- set described = run_query('describe ' ~ rows_view) -%}
    {%- set columns = [] -%}
    {%- for row in described.rows if row[0] and not row[0].startswith('#') -%}
        {%- if row[0] != partition_by and row[0] not in columns | map(attribute='name') | list -%}
            {%- do columns.append({'name': row[0], 'type': row[1]}) -%}
        {%- endif -%}
    {%- endfor -%}

    {#- Declared afresh every build (the data stays: the table is external), so the schema
        follows the model's SQL. -#}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing is not none -%}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
    {% call statement('declare') -%}
        create table {{ target_relation }} (
            {%- for column in columns %}
            `{{ column.name }}` {{ column.type }},
            {%- endfor %}
            `{{ partition_by }}` date
        )
        using parquet
        partitioned by ({{ partition_by }})
        location {{ sql_string(location) }}
    {%- endcall %}

    {%- do run_query('set spark.sql.sources.partitionOverwriteMode='
        ~ ('static' if should_full_refresh() else 'dynamic')) -%}
    {% call statement('main') -%}
        insert overwrite table {{ target_relation }} partition ({{ partition_by }})
        select
            {%- for column in columns %}
            `{{ column.name }}`,
            {%- endfor %}
            `{{ partition_by }}`
        from {{ rows_view }}
        distribute by {{ partition_by }}
        {%- if order_by %}
        sort by {{ order_by }}
        {%- endif %}
    {%- endcall %}
    {%- do run_query('set spark.sql.sources.partitionOverwriteMode=dynamic') -%}

    {{ run_hooks(post_hooks) }}
    {% do persist_docs(target_relation, model) %}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- The rows of `relation` with one row per `event_id`: the first landing of each (a record
    delivered twice, a log file read again after it grew or was rotated). -#}
{% macro first_landing(relation) -%}
    select {{ star_except(['delivery_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by event_id
                order by landed_at, source_object
            ) as delivery_rank
        from {{ relation }}
    ) as ranked
    where delivery_rank = 1
{%- endmacro %}


{#- The columns of a line-format landing dataset (access logs, custom formats), for
    `landing_or_empty`. -#}
{% macro line_landing_columns() -%}
    {{ return({
        'event_id': 'varchar', 'event_time': 'timestamptz', 'event_date': 'date',
        'line_number': 'bigint', 'raw': 'varchar', 'fields': 'varchar',
        'log_format': 'varchar', 'source_object': 'varchar', 'landed_at': 'timestamptz',
        'collection': 'varchar',
    }) }}
{%- endmacro %}
