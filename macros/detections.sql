{#
    Detections as code. A detection is one model under models/detections/ that selects the
    events that match (every column of `cloudtrail_events`), with its metadata in YAML `meta`
    (detection_id, title, description, severity, mitre_tactics, mitre_techniques,
    false_positives, references, dedup_window in minutes, dedup_key columns, summary template;
    optional: attempt_severity, the severity of its denied or failed calls, and runbook).
    `alerts` turns the matches of every detection into alert rows (`detection_alerts`).
#}

{#- The lake events detections read: everything, or the replay window given by the vars
    `detections_from` / `detections_to` (ISO dates or timestamps, UTC). -#}
{% macro detection_events() -%}
    (
        select * from {{ lake_working_set(ref('cloudtrail_events')) }}
        where {{ replay_window() }}
    )
{%- endmacro %}


{% macro replay_window() -%}
    event_time >= cast({{ sql_string(var("detections_from", "1970-01-01")) }} as {{ utc_timestamp_type() }})
    and event_time < cast({{ sql_string(var("detections_to", "9999-12-31")) }} as {{ utc_timestamp_type() }})
{%- endmacro %}


{#- The web requests detections read (`http_access_log`, in the same replay window), with
    the columns alerts are made of named as for CloudTrail: the client is the source address
    and, when it authenticated, the principal; the request is the "event". -#}
{% macro web_detection_events() -%}
    {%- set aliases = {
        'source_ip_address': 'client_ip',
        'source_ip': normalize_ip('client_ip'),
        'principal_arn': 'remote_user',
        'principal_name': 'coalesce(remote_user, client_ip)',
        'recipient_account_id': 'cast(null as string)',
        'account_name': 'cast(null as string)',
        'aws_region': 'cast(null as string)',
        'event_name': "http_method || ' ' || coalesce(path, '')",
        'event_source': "coalesce(host, 'http')",
        'resource_name': 'path',
        'error_code': 'cast(status as string)',
        'access_key_id': 'cast(null as string)',
        'source_country': 'cast(null as string)',
        'source_asn': 'cast(null as bigint)',
        'principal_owner': 'cast(null as string)',
        'principal_team': 'cast(null as string)',
    } -%}
    {%- set documented = graph.get('nodes', {}).get(
        'model.' ~ project_name ~ '.http_access_log', {}).get('columns', {}) -%}
    {#- the CloudTrail columns severity rules read (is_break_glass, ...) are NULL here -#}
    {%- set missing = [] -%}
    {%- for column in severity_rule_columns()
        if column not in documented and column not in aliases and column not in missing -%}
        {%- do missing.append(column) -%}
    {%- endfor -%}
    (
        select
            *
            {%- for column, expression in aliases.items() %},
            {{ expression }} as {{ column }}
            {%- endfor %}
            {%- for column in missing %},
            null as {{ column }}
            {%- endfor %}
        from {{ lake_working_set(ref('http_access_log')) }}
        where {{ replay_window() }}
    )
{%- endmacro %}


{#-
    Threshold detections: the events of `relation` in a burst, a sliding window of `minutes`
    holding at least `at_least` events of one group (`group_by` columns), or at least
    `at_least` distinct values of `distinct`, or distinct items of the lists `distinct_items`
    (an expression giving each event's list: the parameter names of a GetParameters call). Exact, not clock buckets: the window
    ending at each event is counted, and an event belongs to every qualifying window that holds
    it (one ending within `minutes` after it). Windows cross midnight: a day's alerts read the
    previous day's last `detection_lookback_minutes` (var, default 60), which bounds `minutes`.
    Each match carries `threshold_count` (its window's count), `threshold` and
    `threshold_minutes`, which `alerts` reports.
    A group whose events all together fall short of `at_least` (or of that many distinct
    values) has no window that reaches it: such groups are dropped by one pass over the whole
    input before the sliding windows, which cost most of a day's detections (exact: no window
    holds more than its group).
-#}
{% macro threshold_matches(relation, group_by, minutes, at_least, distinct=none, distinct_items=none) -%}
    {%- do check_within_lookback(minutes, 'window') -%}
    {%- set at = epoch_milliseconds('event_time') -%}
    {%- set width = minutes * 60000 -%}
    {%- set group = 'partition by ' ~ (group_by | join(', ') if group_by else "'all'") -%}
    {%- set trailing = group ~ ' order by ' ~ at ~ ' range between ' ~ width
        ~ ' preceding and current row' -%}
    {#- (a list of items per event: no cheap total, every group is counted) -#}
    {%- set added = ['window_size', 'in_burst'] if distinct_items else ['window_size', 'in_burst', 'group_size'] -%}
    {%- if distinct_items %}
    {%- set candidates = relation -%}
    {%- else %}
    {%- set whole_group = group ~ ' rows between unbounded preceding and unbounded following' -%}
    {%- set candidates -%}
        (
            select *
            from (
                select
                    *,
                    {% if distinct -%}
                    {{ count_distinct_over(distinct, whole_group) }}
                    {%- else -%}
                    count(*) over ({{ whole_group }})
                    {%- endif %} as group_size
                from {{ relation }}
            ) as sized
            where group_size >= {{ at_least }}
        ) as candidates
    {%- endset -%}
    {%- endif %}
    select
        {{ star_except(added) }},
        -- what an alert reports against its threshold (the most in one of its windows)
        window_size as threshold_count,
        {{ at_least }} as threshold,
        {{ minutes }} as threshold_minutes
    from (
        select
            *,
            max(case when window_size >= {{ at_least }} then 1 else 0 end) over (
                {{ group }} order by {{ at }} range between current row and {{ width }} following
            ) as in_burst
        from (
            select
                *,
                {%- if distinct_items %}
                {{ count_distinct_items_over(distinct_items, trailing) }} as window_size
                {%- elif distinct %}
                {{ count_distinct_over(distinct, trailing) }} as window_size
                {%- else %}
                count(*) over ({{ trailing }}) as window_size
                {%- endif %}
            from {{ candidates }}
        ) as counted
    ) as marked
    where in_burst = 1
{%- endmacro %}


{#- SQL: a successful call people made themselves, with their own credentials or a role's:
    not an AWS service acting for them (acted_by_aws_service: a service-linked role's session
    is no person), not known automation. What first-seen detections of a principal's habits
    compare. -#}
{% macro direct_human_call() -%}
    error_code is null
    and principal_type in ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
    and not {{ acted_by_aws_service() }}
    and not coalesce(is_automation, false)
{%- endmacro %}


{#- SQL (the body of a detection's `final`): calls with the credentials AWS issued to a
    workload (a Lambda function, an ECS task) made from a public address no known network holds
    (AWS's own ranges are one once loaded; until then, not by the workload's own SDK, whose user
    agent names its runtime: `runtime_user_agent`, a regex). Evidence the session is the workload's:
    the record names its issuer (`issuer_type`, userIdentity.inScopeOf), the service `issuers`
    assumed the role for that key or role and session shortly before, or the key was used with
    the runtime's user agent shortly before. "Shortly" is at most what a day's alerts read of
    the day before (var detection_lookback_minutes), so a day's matches do not depend on when
    it was built. -#}
{% macro workload_credentials_outside_aws(relation, issuers, runtime_user_agent, issuer_type=none) -%}
    {%- set within_minutes = detection_param(
        'issued_within_minutes', var('detection_lookback_minutes', 60)) -%}
    {%- do check_within_lookback(within_minutes, 'look-back for the issuing of a session') -%}
    {%- set within_ms = within_minutes * 60000 -%}
    {#- a call with a role session's key from a public address no known network holds -#}
    {%- set unnamed_public_session_call -%}
            calls.principal_type = 'AssumedRole'
            and calls.access_key_id is not null
            and calls.source_ip_class = 'public'
            and calls.source_network_name is null
    {%- endset -%}
    {%- set assumed_by_the_service -%}
            and issued.event_source = 'sts.amazonaws.com'
            and issued.event_name = 'AssumeRole'
            and issued.error_code is null
            and issued.principal_type = 'AWSService'
            and issued.invoked_by in ({{ sql_in_items(issuers) }})
    {%- endset -%}
    {#- equi-joins (and no `or exists (...)`: Spark cannot run a correlated subquery under OR
        over a union, which its unit-test fixtures are) -#}
    select outside_calls.*
    from (
        select candidates.*
        from {{ relation }} as candidates
        cross join (select count(*) as prefixes from {{ ref('aws_ip_ranges') }}) as aws_ranges
        where
            candidates.principal_type = 'AssumedRole'
            and candidates.access_key_id is not null
            and candidates.source_ip_class = 'public'
            and candidates.source_network_name is null
            -- until AWS's ranges are loaded the runtime's own addresses are unnamed, and its
            -- SDK calls would all page; once they are, the address decides: a thief who
            -- exported the workload's AWS_EXECUTION_ENV sends its user agent too
            and not (
                aws_ranges.prefixes = 0
                and {{ regex_matches("coalesce(candidates.user_agent, '')", runtime_user_agent) }}
            )
    ) as outside_calls
    left join (
        -- the service assumed the role for this key shortly before
        select calls.event_id
        from {{ relation }} as calls
        inner join {{ relation }} as issued
            on
                {{ json_string('issued.response_elements', '$.credentials.accessKeyId') }}
                = calls.access_key_id
                and issued.event_time <= calls.event_time
                and {{ epoch_milliseconds('issued.event_time') }}
                >= {{ epoch_milliseconds('calls.event_time') }} - {{ within_ms }}
        where
            {{ unnamed_public_session_call }}
            {{ assumed_by_the_service }}
        union
        -- or for this role and session name
        select calls.event_id
        from {{ relation }} as calls
        inner join {{ relation }} as issued
            on
                {{ json_string('issued.request_parameters', '$.roleArn') }}
                = calls.session_issuer_arn
                and {{ json_string('issued.request_parameters', '$.roleSessionName') }}
                = calls.principal_session_name
                and issued.event_time <= calls.event_time
                and {{ epoch_milliseconds('issued.event_time') }}
                >= {{ epoch_milliseconds('calls.event_time') }} - {{ within_ms }}
        where
            {{ unnamed_public_session_call }}
            {{ assumed_by_the_service }}
        union
        -- or the key was used by the workload's own code (its runtime's user agent) shortly
        -- before
        select calls.event_id
        from {{ relation }} as calls
        inner join {{ relation }} as in_runtime
            on
                in_runtime.access_key_id = calls.access_key_id
                and in_runtime.event_time <= calls.event_time
                and {{ epoch_milliseconds('in_runtime.event_time') }}
                >= {{ epoch_milliseconds('calls.event_time') }} - {{ within_ms }}
        where
            {{ unnamed_public_session_call }}
            and in_runtime.principal_type = 'AssumedRole'
            and {{ regex_matches('in_runtime.user_agent', runtime_user_agent) }}
    ) as evidence
        on evidence.event_id = outside_calls.event_id
    where
        evidence.event_id is not null
        {%- if issuer_type %}
        -- or the credentials say whom they were issued to (userIdentity.inScopeOf)
        or coalesce({{ json_string('outside_calls.user_identity', '$.inScopeOf.issuerType') }}
            = {{ sql_string(issuer_type) }}, false)
        {%- endif %}
{%- endmacro %}


{#- SQL: AWS acting for the account: a service principal, a call a service made on a caller's
    behalf, or a session of a service-linked role (AWS Backup's lifecycle, Security Hub's
    managed Config rules). -#}
{% macro acted_by_aws_service() -%}
    (
        coalesce(principal_type, '') = 'AWSService'
        or invoked_by is not null
        or coalesce(session_issuer_arn, '') like '%:role/aws-service-role/%'
    )
{%- endmacro %}


{#- SQL: true when the IAM user named by `user` (an expression) is the caller themselves: the
    user calling, or the person behind an IAM Identity Center session (which names the session
    after the user, `alice` or `alice@example.com`). Other sessions do not count: whoever calls
    AssumeRole chooses its session name. -#}
{% macro is_callers_own_user(user) -%}
    (
        {{ user }} = principal_name
        or (
            coalesce(session_issuer_arn, '') like '%:role/aws-reserved/sso.amazonaws.com/%'
            and (
                {{ user }} = principal_session_name
                or {{ user }} = {{ regex_extract('principal_session_name', '^([^@]+)@', 1) }}
            )
        )
    )
{%- endmacro %}


{#- The accounts Elastic Load Balancing writes access logs from, by region (AWS's list): a bucket
    policy that lets them write is log delivery, not a grant to someone else's account. -#}
{% macro elb_log_delivery_accounts() %}
    {{ return([
        '127311923021', '033677994240', '027434742980', '797873946194', '098369216593',
        '754344448648', '589379963580', '718504428378', '383597477331', '600734575887',
        '114774131450', '783225319266', '582318560864', '985666609251', '054676820928',
        '156460612806', '652711504416', '635631232127', '009996457667', '897822967062',
        '076674570225', '507241528517', '048591011584', '190560391635',
    ]) }}
{% endmacro %}


{#- The columns `threshold_matches` adds to the events it matches. -#}
{% macro threshold_columns() %}
    {{ return(['threshold_count', 'threshold', 'threshold_minutes']) }}
{% endmacro %}


{#- Alert context for triage: list columns of `alerts` (name → the event column whose
    distinct values over the alert's events it holds), and columns taken from its first event. -#}
{% macro alert_context_columns() %}
    {{ return({
        'event_names': 'event_name', 'resources': 'resource_name', 'user_agents': 'user_agent',
        'access_key_ids': 'access_key_id', 'error_codes': 'error_code',
        'source_ips': 'source_ip_address', 'source_countries': 'source_country',
        'source_asns': 'source_asn', 'aws_regions': 'aws_region',
    }) }}
{% endmacro %}

{% macro alert_context_firsts() %}
    {{ return(['principal_owner', 'principal_team']) }}
{% endmacro %}


{#- Whether a detection's matches carry `threshold_matches`' counts: it calls that macro and
    does not drop them (`threshold_columns()`, as a sequence step does). dbt records the macros
    a model calls itself: a detection calling threshold_matches through a macro of its own
    reports no threshold. -#}
{% macro reports_threshold(name) %}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set macros = graph.nodes['model.' ~ project_name ~ '.' ~ name].depends_on.macros -%}
    {{ return('macro.' ~ project_name ~ '.threshold_matches' in macros
              and 'macro.' ~ project_name ~ '.threshold_columns' not in macros) }}
{% endmacro %}


{#- A detection's runbook: meta `runbook`, else the var `runbook_url` with `{detection_id}`
    replaced (a wiki of runbooks by id); none without either. It is part of the alerts' SQL:
    changing the var rebuilds every day of alerts. -#}
{% macro detection_runbook(meta) %}
    {%- set template = var('runbook_url', none) -%}
    {%- set url = (meta.runbook | string) if meta.runbook else (
        (template | string) | replace('{detection_id}', meta.detection_id) if template else none) -%}
    {#- a link a triager will open: a web address, nothing a browser would run -#}
    {%- if url is not none and not modules.re.match('https?://[!-~]+$', url) -%}
        {{ exceptions.raise_compiler_error(
            meta.detection_id ~ ": a runbook is an http(s) URL, not " ~ url) }}
    {%- endif -%}
    {{ return(url) }}
{% endmacro %}


{#- The metadata of a detection model, validated (at execution time; placeholders at parse). -#}
{% macro detection_meta(name) %}
    {%- if not execute -%}
        {{ return({'detection_id': name, 'title': name, 'severity': 'info',
                   'mitre_tactics': [], 'mitre_techniques': [], 'dedup_window': 60,
                   'dedup_key': ['principal_arn'], 'summary': ''}) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("no detection model named " ~ name) }}
    {%- endif -%}
    {%- set meta = node.config.meta -%}
    {%- for required in ['detection_id', 'title', 'description', 'severity', 'mitre_tactics',
                         'mitre_techniques', 'false_positives', 'references', 'dedup_window',
                         'dedup_key', 'summary'] -%}
        {%- if required not in meta -%}
            {{ exceptions.raise_compiler_error(name ~ ": meta." ~ required ~ " is missing") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in ['severity', 'attempt_severity'] if key in meta
        and meta[key] not in severity_levels() -%}
        {{ exceptions.raise_compiler_error(name ~ ": unknown " ~ key ~ " " ~ meta[key]) }}
    {%- endfor -%}
    {#- the CloudTrail data events (resource types) a detection reads: a trail without them
        leaves it blind, which the catalog says -#}
    {%- for kind in meta.get('data_events', []) if not modules.re.fullmatch('AWS::[A-Za-z0-9]+::[A-Za-z0-9]+', kind | string) -%}
        {{ exceptions.raise_compiler_error(name ~ ": data_events: not a resource type " ~ kind) }}
    {%- endfor -%}
    {%- if (meta.dedup_window | int) < 1 -%}
        {{ exceptions.raise_compiler_error(name ~ ": dedup_window must be a number of minutes") }}
    {%- endif -%}
    {{ return(meta) }}
{% endmacro %}


{#- A window or sequence longer than what a day's alerts read of the day before
    (`detection_lookback_minutes`) would miss matches across midnight: refused. -#}
{% macro check_within_lookback(minutes, what) %}
    {%- if minutes > var('detection_lookback_minutes', 60) -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": a " ~ minutes ~ "-minute " ~ what ~ " is longer than the lookback the "
            ~ "alerts build reads (var detection_lookback_minutes: "
            ~ var('detection_lookback_minutes', 60) ~ ")") }}
    {%- endif -%}
{% endmacro %}


{#- API calls that destroy data or infrastructure, and that change IAM permissions or
    credentials: steps several sequence detections share. -#}
{% macro destructive_api_calls() %}
    {{ return(['DeleteBucket', 'DeleteObjects', 'TerminateInstances', 'DeleteDBInstance',
               'DeleteDBCluster', 'DeleteVolume', 'DeleteSnapshot', 'DeleteDBSnapshot',
               'ScheduleKeyDeletion', 'DeleteUser', 'DeleteRole', 'DeleteFunction20150331',
               'DeleteTable', 'DeleteFileSystem', 'DeleteBackupVault', 'DeleteRecoveryPoint',
               'DeleteLogGroup']) }}
{% endmacro %}

{% macro privilege_change_api_calls() %}
    {{ return(['AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy', 'PutUserPolicy',
               'PutRolePolicy', 'PutGroupPolicy', 'CreatePolicyVersion', 'SetDefaultPolicyVersion',
               'UpdateAssumeRolePolicy', 'AddUserToGroup', 'CreateAccessKey', 'CreateLoginProfile',
               'UpdateLoginProfile']) }}
{% endmacro %}


{#- SQL: an S3 request whose ACL lets everyone (or every AWS account) in: a canned ACL
    (`x-amz-acl: public-read`, `public-read-write`, `authenticated-read`) or a grant to the
    AllUsers or AuthenticatedUsers group. -#}
{% macro s3_acl_grants_everyone() -%}
    {{ regex_matches(
        json_text('request_parameters'),
        '"x-amz-acl"\\s*:\\s*\\[?\\s*"(public-read|public-read-write|authenticated-read)"'
        ~ '|acs[.]amazonaws[.]com/groups/global/(AllUsers|AuthenticatedUsers)'
    ) }}
{%- endmacro %}


{#- SQL: the text values `values` as the items of an IN list (`'a', 'b'`). -#}
{% macro sql_in_items(values) -%}
    {%- for value in values %}{{ sql_string(value) }}{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}


{% macro sql_string_list(values) -%}
    {%- set items = [] -%}
    {%- for value in values -%}{%- do items.append(sql_string(value)) -%}{%- endfor -%}
    {%- if items -%}
        {{ list_of(items) }}
    {%- else -%}
        {#- an empty list literal has no element type -#}
        {{ list_filter(list_of(["''"]), 'item', 'false') }}
    {%- endif -%}
{%- endmacro %}


{#-
    Alerts from the matches of `detections` (model names). Matches of one detection with the
    same dedup key are one alert while they keep coming less than the detection's dedup window
    apart (within a UTC day); its id hashes the detection, the key and the alert's first match,
    and an alert already in the lake keeps its id when late matches move its start, so ids are
    stable across reruns, full refreshes and late events. A match covered by an unexpired
    suppression is kept, flagged; an alert is suppressed when all its matches are.
-#}
{% macro detection_alerts(detections) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and 'detection' in node.tags
            and node.name not in detections -%}
            {{ exceptions.raise_compiler_error(
                "detection " ~ node.name ~ " is missing from macros/detection_models.sql: "
                ~ "run `ingest detections sync`") }}
        {%- endfor -%}
    {%- endif -%}
    {%- set enabled = [] -%}
    {%- set detection_ids = [] -%}
    {%- for name in detections -%}
        {%- set meta = detection_meta(name) -%}
        {%- do detection_ids.append(meta.detection_id) -%}
        {%- set settings = detection_settings(meta.detection_id) -%}
        {%- if settings.enabled or not execute -%}
            {%- do enabled.append((name, meta, settings)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if execute -%}{%- do check_detection_settings(detection_ids) -%}{%- endif -%}
    {%- set explicit = ['event_id', 'event_time', 'event_date', 'landed_at', 'aws_region',
                        'principal_arn', 'source_ip_address', 'source_ip'] -%}
    {%- set carried = [] -%}
    {%- for column in summary_columns() + severity_rule_columns() + alert_context_columns().values()
        | list + alert_context_firsts()
        if column not in explicit and column not in carried -%}
        {%- do carried.append(column) -%}
    {%- endfor -%}
with

-- (the optional columns read alike on both engines: seed_text)
suppressions as (

    select
        detection_id,
        {{ seed_text('principal_pattern') }} as principal_pattern,
        {{ seed_text('source_cidr') }} as source_cidr,
        {{ seed_text('account_id') }} as account_id,
        reason,
        expires_at
    from {{ ref('detection_suppressions') }}
    where expires_at is null or expires_at > now()

),

matched as (
    {% for name, meta, settings in enabled %}
    {%- set severity = settings.severity or meta.severity %}
    {%- set runbook = detection_runbook(meta) %}
    {%- set with_threshold = reports_threshold(name) %}
    select
        '{{ meta.detection_id }}' as detection_id,
        {{ sql_string(meta.title) }} as title,
        {%- if meta.attempt_severity %}
        -- a denied or failed attempt at the action is a signal too, at its own severity
        error_code is not null as failed_attempt,
        case
            when error_code is not null then '{{ meta.attempt_severity }}'
            else '{{ severity }}'
        end as severity,
        {%- else %}
        false as failed_attempt,
        '{{ severity }}' as severity,
        {%- endif %}
        {{ sql_string_list(meta.mitre_tactics) }} as mitre_tactics,
        {{ sql_string_list(meta.mitre_techniques) }} as mitre_techniques,
        event_id,
        event_time,
        event_date,
        landed_at,
        recipient_account_id as account_id,
        aws_region,
        principal_arn,
        source_ip_address,
        source_ip,
        concat_ws(
            '|', {% for column in meta.dedup_key %}coalesce(cast({{ column }} as string), '-')
            {{- ', ' if not loop.last }}{% endfor %}
        ) as dedup_key,
        {{ meta.dedup_window | int }} as dedup_window_minutes,
        {# rendered once, after the union: a summary expression per detection made the
            query (and dbt's parse of it) several times larger #}
        {{ sql_string(meta.summary) }} as summary_template,
        {{ sql_string(runbook) if runbook else 'cast(null as string)' }} as runbook,
        {%- for column in threshold_columns() %}
        {{ column if with_threshold else 'cast(null as integer)' }} as {{ column }},
        {%- endfor %}
        {{ carried | join(', ') }}
    from {{ ref(name) }}
    where {{ lake_partition_filter() }}
    {%- if settings.exclude %}
        and not {{ excluded(settings.exclude) }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

matches as (

    select
        detection_id,
        title,
        severity,
        mitre_tactics,
        mitre_techniques,
        event_id,
        event_time,
        event_date,
        landed_at,
        account_id,
        aws_region,
        principal_arn,
        source_ip_address,
        source_ip,
        dedup_key,
        dedup_window_minutes,
        runbook,
        {{ (threshold_columns() + alert_context_columns().values() | list + alert_context_firsts())
            | reject('in', ['aws_region', 'source_ip_address']) | join(', ') }},
        {{ render_summary('summary_template') }}
        || case when failed_attempt then ' (attempt failed: ' || error_code || ')' else '' end
            as summary,
        {{ ruled_severity_rank(
            "case severity when 'info' then 0 when 'low' then 1 when 'medium' then 2 "
            ~ "when 'high' then 3 else 4 end") }} as severity_rank,
        {{ severity_reason() }} as severity_reason
    from matched

),

suppressed as (

    select distinct
        matches.detection_id,
        matches.event_id
    from matches
    inner join suppressions
        on
            (suppressions.detection_id = '*' or suppressions.detection_id = matches.detection_id)
            and (
                suppressions.principal_pattern is null
                or {{ matches_glob('matches.principal_arn', 'suppressions.principal_pattern') }}
            )
            and (
                suppressions.source_cidr is null
                or coalesce({{ ip_in_cidr('matches.source_ip', 'suppressions.source_cidr') }}, false)
            )
            and (
                suppressions.account_id is null
                or suppressions.account_id = matches.account_id
            )

),

judged as (

    select
        matches.*,
        suppressed.event_id is not null as is_suppressed
    from matches
    left join suppressed
        on
            matches.detection_id = suppressed.detection_id
            and matches.event_id = suppressed.event_id

),

-- an alert continues while its matches (of one detection, with one dedup key, in one day)
-- come no more than the detection's dedup window apart; a longer gap starts a new one
ordered as (

    select
        judged.*,
        lag(event_time) over (
            partition by detection_id, dedup_key, event_date
            order by event_time, event_id
        ) as previous_time
    from judged

),

sessions as (

    select
        ordered.*,
        sum(
            case
                when
                    previous_time is null
                    or {{ epoch_milliseconds('event_time') }} - {{ epoch_milliseconds('previous_time') }}
                    > dedup_window_minutes * 60000
                    then 1
                else 0
            end
        ) over (
            partition by detection_id, dedup_key, event_date
            order by event_time, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from ordered

),

grouped as (

    select
        md5(detection_id || '|' || dedup_key || '|' || {{ timestamp_text('min(event_time)') }})
            as computed_id,
        detection_id,
        any_value(title) as title,
        case max(severity_rank)
            {%- for level in severity_levels() %}
            when {{ loop.index0 }} then '{{ level }}'
            {%- endfor %}
        end as severity,
        any_value(mitre_tactics) as mitre_tactics,
        any_value(mitre_techniques) as mitre_techniques,
        {{ first_by('account_id', ['event_time', 'event_id']) }} as account_id,
        {{ first_by('aws_region', ['event_time', 'event_id']) }} as aws_region,
        {{ first_by('principal_arn', ['event_time', 'event_id']) }} as principal_arn,
        {{ first_by('source_ip_address', ['event_time', 'event_id']) }} as source_ip_address,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        cast(count(distinct event_id) as integer) as event_count,
        {{ sorted_set_agg('event_id') }} as event_ids,
        dedup_key,
        {{ first_by('summary', ['event_time', 'event_id']) }} as summary,
        -- why the severity differs from the detection's (the rules that raised or lowered it)
        {{ first_by('severity_reason', ['4 - severity_rank', 'event_time', 'event_id']) }}
            as severity_reason,
        -- triage context over all the alert's events (each list sorted, at most 20 values)
        {%- for name, column in alert_context_columns().items() %}
        {{ list_head(sorted_set_agg(column), 20) }} as {{ name }},
        {%- endfor %}
        {%- for column in alert_context_firsts() %}
        {{ first_by(column, ['event_time', 'event_id']) }} as {{ column }},
        {%- endfor %}
        cast(max(threshold_count) as integer) as threshold_count,
        max(threshold) as threshold,
        max(threshold_minutes) as threshold_minutes,
        any_value(runbook) as runbook,
        bool_and(is_suppressed) as suppressed,
        event_date as alert_date
    from sessions
    group by detection_id, dedup_key, event_date, session_number

),

{#- An alert keeps its id when late events move its start: a session overlapping an alert
    the lake already holds (same detection and key) takes that alert's id (the first session to
    overlap it, when a logic change split it). -#}
previous as (

    select
        alert_id,
        detection_id,
        dedup_key,
        first_seen_at,
        last_seen_at
    from {{ lake_published({
        'alert_id': 'string', 'detection_id': 'string', 'dedup_key': 'string',
        'first_seen_at': utc_timestamp_type(), 'last_seen_at': utc_timestamp_type(),
    }) }} as published
    -- an id a session computes itself stays with that session
    where alert_id not in (select grouped.computed_id from grouped)

),

reused as (

    select
        computed_id,
        previous_id
    from (
        select
            overlapping.*,
            row_number() over (
                partition by previous_id order by first_seen_at, computed_id
            ) as claim
        from (
            select
                grouped.computed_id,
                min(grouped.first_seen_at) as first_seen_at,
                min(previous.alert_id) as previous_id
            from grouped
            inner join previous
                on
                    grouped.detection_id = previous.detection_id
                    and grouped.dedup_key = previous.dedup_key
                    and grouped.first_seen_at <= previous.last_seen_at
                    and grouped.last_seen_at >= previous.first_seen_at
            group by grouped.computed_id
        ) as overlapping
    ) as claims
    where claim = 1

),

final as (

    select
        coalesce(reused.previous_id, grouped.computed_id) as alert_id,
        grouped.detection_id,
        grouped.title,
        grouped.severity,
        grouped.mitre_tactics,
        grouped.mitre_techniques,
        grouped.account_id,
        grouped.aws_region,
        grouped.principal_arn,
        grouped.source_ip_address,
        grouped.first_seen_at,
        grouped.last_seen_at,
        grouped.event_count,
        grouped.event_ids,
        grouped.dedup_key,
        grouped.summary,
        grouped.severity_reason,
        {%- for column in alert_context_columns().keys() | list + alert_context_firsts()
            + threshold_columns() %}
        grouped.{{ column }},
        {%- endfor %}
        grouped.runbook,
        grouped.suppressed,
        grouped.alert_date
    from grouped
    left join reused on grouped.computed_id = reused.computed_id

)

select * from final
{%- endmacro %}
