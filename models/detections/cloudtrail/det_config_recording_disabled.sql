-- AWS Config recording stopped or deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'config.amazonaws.com'
        and event_name in (
            'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'
        )

)

select * from final
