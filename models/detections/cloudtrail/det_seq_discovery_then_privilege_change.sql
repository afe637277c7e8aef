-- Enumeration sweep across services, then a privilege change

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select * from events
    where
        read_only
        and not coalesce(is_automation, false)
        and lower(coalesce(user_agent, '')) not like '%console%'
        and lower(coalesce(user_agent, '')) not like 'aws internal%'

),

discovery as (

    {{ threshold_matches(
        'reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct='event_source'
    ) }}

),

escalation as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and event_name in (
            {%- for name in privilege_change_api_calls() %}
                {{ sql_string(name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        )

),

final as (

    {{ sequence_matches([
        {'relation': 'discovery', 'key': 'principal_arn'},
        {'relation': 'escalation', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes', 50)) }}

)

select * from final
