-- EC2 serial console access enabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'EnableSerialConsoleAccess'

)

select * from final
