-- GuardDuty trusted IP list or filter changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and error_code is null
        and (
            event_name in ('CreateIPSet', 'UpdateIPSet')
            or (
                event_name in ('CreateFilter', 'UpdateFilter')
                and {{ json_string('request_parameters', '$.action') }} = 'ARCHIVE'
            )
        )

)

select * from final
