-- Access key created for another user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'CreateAccessKey'
        and resource_name is not null
        and resource_name != coalesce(principal_name, '')

)

select * from final
