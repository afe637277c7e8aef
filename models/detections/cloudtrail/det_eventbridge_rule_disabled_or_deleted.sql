-- EventBridge rule disabled or deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'events.amazonaws.com'
        and event_name in ('DisableRule', 'DeleteRule', 'RemoveTargets')
        and not {{ acted_by_aws_service() }}

)

select * from final
