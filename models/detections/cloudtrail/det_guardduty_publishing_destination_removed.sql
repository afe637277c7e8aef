-- GuardDuty findings export removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and event_name = 'DeletePublishingDestination'

)

select * from final
