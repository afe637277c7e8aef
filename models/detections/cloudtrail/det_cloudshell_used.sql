-- AWS CloudShell used

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cloudshell.amazonaws.com'
        and event_name in ('CreateEnvironment', 'CreateSession', 'PutCredentials')
        and error_code is null

)

select * from final
