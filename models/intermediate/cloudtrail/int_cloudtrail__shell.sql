-- cloudtrail_events mapped to the event shell: category, severity, summary, tags and details
-- by the rule seeds, next to every CloudTrail column (the ECS and OCSF views read both).

with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

category_rules as (

    select * from {{ ref('event_category_rules') }}

),

severity_rules as (

    select * from {{ ref('event_severity_rules') }}

),

summary_templates as (

    select * from {{ ref('event_summary_templates') }}

),

classified as (

    select
        *,
        case when error_code is null then 'success' else 'failure' end as outcome,
        coalesce(
            (
                select max_by(category_rules.category, category_rules.priority)
                from category_rules
                where
                    {{ matches_glob('events.event_source', 'category_rules.event_source_pattern') }}
                    and {{ matches_glob('events.event_name', 'category_rules.event_name_pattern') }}
            ),
            'management'
        ) as category
    from events

),

rated as (

    select
        *,
        coalesce(
            (
                select
                    max_by(
                        severity_rules.severity, {{ severity_rank('severity_rules.severity') }}
                    )
                from severity_rules
                where
                    {{ matches_glob(
                        'classified.event_source', 'severity_rules.event_source_pattern'
                    ) }}
                    and {{ matches_glob(
                        'classified.event_name', 'severity_rules.event_name_pattern'
                    ) }}
                    and {{ matches_glob(
                        "coalesce(classified.principal_type, '')",
                        'severity_rules.principal_type_pattern'
                    ) }}
                    and severity_rules.outcome in ('any', classified.outcome)
            ),
            'info'
        ) as severity
    from classified

),

final as (

    select
        rated.*,
        'cloudtrail' as source,  -- noqa: RF04
        rated.landed_at as received_at,
        {{ render_summary('summary_templates.template') }} as summary,  -- noqa: RF04
        {% call non_null_list() %}
            case when rated.read_only then 'read_only' end,
            case when rated.outcome = 'failure' then 'error' end,
            case
                when
                    rated.error_code like '%AccessDenied%'
                    or rated.error_code like '%Unauthorized%'
                    then 'access_denied'
            end,
            case when rated.principal_type = 'Root' then 'root' end,
            case when rated.event_type = 'AwsConsoleSignIn' then 'console' end,
            case when rated.session_mfa is false then 'no_mfa' end,
            case when rated.is_automation then 'automation' end,
            case when rated.is_break_glass then 'break_glass' end,
            case when rated.source_ip_class = 'aws_service' then 'aws_service' end,
            case
                when rated.source_ip_class = 'public' and rated.source_network_name is null
                    then 'unknown_network'
            end
        {% endcall %} as tags,
        {{ to_json_document(struct_of({
            'event_source': 'rated.event_source',
            'event_name': 'rated.event_name',
            'aws_region': 'rated.aws_region',
            'recipient_account_id': 'rated.recipient_account_id',
            'principal_type': 'rated.principal_type',
            'principal_arn': 'rated.principal_arn',
            'user_agent': 'rated.user_agent',
            'error_code': 'rated.error_code',
            'error_message': 'rated.error_message',
            'resource_name': 'rated.resource_name',
            'request_parameters': 'rated.request_parameters',
        })) }} as details,
        {{ utc_part('year', 'rated.event_time') }} as year,  -- noqa: RF04
        {{ utc_part('month', 'rated.event_time') }} as month,  -- noqa: RF04
        {{ utc_part('day', 'rated.event_time') }} as day,  -- noqa: RF04
        {{ utc_part('hour', 'rated.event_time') }} as hour  -- noqa: RF04
    from rated
    left join summary_templates
        on
            rated.category = summary_templates.category
            and rated.outcome = summary_templates.outcome

)

select * from final
