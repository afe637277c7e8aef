-- Access key created for the root user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'CreateAccessKey'
        and principal_type = 'Root'
        and {{ json_string('request_parameters', '$.userName') }} is null

)

select * from final
