-- Enumeration sweep across services, then a privilege change

with

events as (

    select * from {{ detection_events() }}

),

escalation as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and event_name in ({{ sql_in_items(privilege_change_api_calls()) }})

),

-- only principals who changed privileges can complete the sequence: the sliding windows
-- (the costly part) are counted for them alone
reads as (

    select * from events
    where
        principal_arn in (select escalation.principal_arn from escalation)
        and read_only
        and not coalesce(is_automation, false)
        and lower(coalesce(user_agent, '')) not like '%console%'
        and lower(coalesce(user_agent, '')) not like 'aws internal%'

),

-- a step of the sequence: its rows have the event columns only
discovery as (

    select {{ star_except(threshold_columns()) }}
    from (
        {{ threshold_matches(
            'reads',
            ['principal_arn'],
            minutes=detection_param('minutes', 10),
            at_least=detection_param('at_least', 5),
            distinct='event_source'
        ) }}
    ) as sweep

),

final as (

    {{ sequence_matches([
        {'relation': 'discovery', 'key': 'principal_arn'},
        {'relation': 'escalation', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes', 50)) }}

)

select * from final
