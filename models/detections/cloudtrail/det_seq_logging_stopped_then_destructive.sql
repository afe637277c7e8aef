-- CloudTrail stopped, then destructive calls

with

events as (

    select * from {{ detection_events() }}

),

stopped as (

    select * from events
    where
        event_source = 'cloudtrail.amazonaws.com'
        and event_name in ('StopLogging', 'DeleteTrail')
        and error_code is null

),

destroyed as (

    select * from events
    where
        error_code is null
        and event_name in ({{ sql_in_items(destructive_api_calls()) }})

),

restarted as (

    select * from events
    where
        event_source = 'cloudtrail.amazonaws.com'
        and event_name = 'StartLogging'
        and error_code is null

),

final as (

    {{ sequence_matches([
        {'relation': 'stopped', 'key': 'principal_arn'},
        {'relation': 'destroyed', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes',
    60), unless={'relation': 'restarted',
    'key': 'principal_arn'}) }}

)

select * from final
