-- Root user API activity

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        principal_type = 'Root'
        and event_name != 'ConsoleLogin'
        and invoked_by is null
        and event_type = 'AwsApiCall'

)

select * from final
