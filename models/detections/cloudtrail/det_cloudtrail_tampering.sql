-- CloudTrail logging stopped, deleted or changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cloudtrail.amazonaws.com'
        and event_name in ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors')

)

select * from final
