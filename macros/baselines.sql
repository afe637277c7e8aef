{#-
    Baselines: what each subject did before, kept per day in the `baseline_days` lake dataset
    and read by first-seen detections (`first_seen_matches`). A kind of baseline is a subject
    (whose history it is), a key (what is new or not) and the events it is learned from; all of
    them are listed here, so the dataset keeps exactly what detections read. Subject and key
    are SQL expressions over cloudtrail_events giving text. Only successful calls teach a
    baseline: an attacker's denied attempts never make their address "known".
-#}
{% macro baseline_kinds() %}
    {%- set successful = "error_code is null" -%}
    {#- whose history, and who updated a function or read a secret: a role's sessions are one
        (session names are the caller's choice: an attacker picks a fresh one, and workloads
        and CI runs mint one per task) -#}
    {%- set actor = 'coalesce(session_issuer_arn, principal_arn)' -%}
    {#- a client's product name, without version or platform: `aws-cli/2.17 ...` → aws-cli -#}
    {%- set user_agent_family = 'lower(' ~ regex_extract(
        'user_agent', '^[^A-Za-z]*([A-Za-z][A-Za-z0-9_.-]*)', 1) ~ ')' -%}
    {{ return({
        'principal_source_ip': {
            'subject': actor,
            'key': 'cast(source_ip as string)',
            'where': successful,
        },
        'principal_source_asn': {
            'subject': actor,
            'key': 'cast(source_asn as string)',
            'where': successful,
        },
        'principal_source_country': {
            'subject': actor,
            'key': 'source_country',
            'where': successful,
        },
        'principal_user_agent_family': {
            'subject': actor,
            'key': user_agent_family,
            'where': successful,
        },
        'principal_api_call': {
            'subject': actor,
            'key': "event_source || ':' || event_name",
            'where': successful,
        },
        'principal_service': {
            'subject': actor,
            'key': 'event_source',
            'where': successful,
        },
        'access_key_source_ip': {
            'subject': 'access_key_id',
            'key': 'cast(source_ip as string)',
            'where': successful ~ " and access_key_id like 'AKIA%'",
        },
        'account_region': {
            'subject': 'recipient_account_id',
            'key': 'aws_region',
            'where': successful,
        },
        'account_caller_account': {
            'subject': 'recipient_account_id',
            'key': 'account_id',
            'where': successful ~ " and account_id != recipient_account_id",
        },
        'role_assumer_account': {
            'subject': json_string('request_parameters', '$.roleArn'),
            'key': 'account_id',
            'where': successful ~ " and event_source = 'sts.amazonaws.com' and event_name = 'AssumeRole'",
        },
        'lambda_function_code_updater': {
            'subject': 'resource_name',
            'key': actor,
            'where': successful ~ " and event_source = 'lambda.amazonaws.com'"
                ~ " and event_name like 'UpdateFunctionCode%'",
        },
        'secret_reader': {
            'subject': json_string('request_parameters', '$.secretId'),
            'key': actor,
            'where': successful ~ " and event_source = 'secretsmanager.amazonaws.com'"
                ~ " and event_name = 'GetSecretValue'",
        },
    }) }}
{% endmacro %}


{% macro baseline_kind(name) %}
    {%- set kinds = baseline_kinds() -%}
    {%- if name not in kinds -%}
        {{ exceptions.raise_compiler_error(
            "no baseline kind " ~ name ~ " (macros/baselines.sql lists them: "
            ~ kinds.keys() | join(', ') ~ ")") }}
    {%- endif -%}
    {{ return(kinds[name]) }}
{% endmacro %}


{#-
    First-seen detections: the events of `relation` whose key, in the baseline kind `baseline`,
    their subject never had in the `baseline_lookback_days` (var, default 90) before the
    event's day, for subjects with at least `min_history_days` days in that baseline (so a new
    lake or a new principal does not call everything new). Reads the per-day baselines, never
    the raw history: a day's alerts read at most the lookback's days of keys, whatever the lake
    holds. Keys first seen earlier the same day still count as new (one alert groups them).
    `new_subjects=true` judges subjects with little or no history too (a role never assumed
    before, a dormant one woken): the minimum is then the baseline kind's history, any
    subject's, for detections where a subject new to the lake is news itself.
-#}
{% macro first_seen_matches(relation, baseline, min_history_days=3, new_subjects=false) -%}
    {%- set kind = baseline_kind(baseline) -%}
    {%- set lookback = var('baseline_lookback_days', 90) | int -%}
    select {{ star_except(['baseline_subject', 'baseline_key']) }}
    from (
        select
            *,
            {{ kind.subject }} as baseline_subject,
            {{ kind.key }} as baseline_key
        from {{ relation }}
        where {{ kind.where }}
    ) as candidates
    where
        candidates.baseline_subject is not null
        and candidates.baseline_key is not null
        {%- if new_subjects %}
        and {{ _baseline_days(_history(baseline, lookback, any_subject=true)) }}
        >= {{ min_history_days }}
        {%- else %}
        and {{ _baseline_days(_history(baseline, lookback)) }} >= {{ min_history_days }}
        {%- endif %}
        and not exists (
            select 1
            from {{ ref('baseline_days') }} as history
            where
                {{ _history(baseline, lookback) }}
                and history.key_value = candidates.baseline_key
        )
{%- endmacro %}


{#- SQL: the rows `history` of baseline_days of the kind `baseline` in the lookback before the
    day of the row `candidates`, of its subject (or of any). -#}
{% macro _history(baseline, lookback, any_subject=false) -%}
    history.kind = {{ sql_string(baseline) }}
    {%- if not any_subject %}
    and history.subject = candidates.baseline_subject
    {%- endif %}
    and history.event_date < candidates.event_date
    and history.event_date >= {{ date_add_days('candidates.event_date', -lookback) }}
    and {{ lake_partition_window('history.event_date', lookback) }}
{%- endmacro %}


{% macro _baseline_days(history) -%}
    (
        select count(distinct history.event_date)
        from {{ ref('baseline_days') }} as history
        where {{ history }}
    )
{%- endmacro %}
