-- CloudWatch log group or alarms deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        error_code is null
        and (
            (
                event_source = 'logs.amazonaws.com'
                and event_name in ('DeleteLogGroup', 'DeleteLogStream')
            )
            or (
                event_source = 'monitoring.amazonaws.com'
                and event_name in ('DeleteAlarms', 'DisableAlarmActions')
            )
        )

)

select * from final
