-- Root user console sign-in
-- meta (id, severity, ATT&CK, dedup) in _cloudtrail__detections.yml

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_name = 'ConsoleLogin'
        and principal_type = 'Root'

)

select * from final
