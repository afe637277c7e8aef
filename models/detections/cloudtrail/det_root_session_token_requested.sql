-- Temporary credentials issued to the root user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'GetSessionToken'
        and principal_type = 'Root'

)

select * from final
