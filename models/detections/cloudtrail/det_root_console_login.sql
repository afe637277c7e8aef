-- Root user console sign-in

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
