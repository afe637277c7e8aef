-- Permissions boundary removed from a user or role

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')

)

select * from final
