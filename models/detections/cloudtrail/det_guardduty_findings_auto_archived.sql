-- GuardDuty filter archives findings automatically

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and event_name in ('CreateFilter', 'UpdateFilter')
        and upper({{ json_string('request_parameters', '$.action') }}) = 'ARCHIVE'

)

select * from final
