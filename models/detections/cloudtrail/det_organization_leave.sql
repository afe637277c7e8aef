-- Account left or removed from the organization

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'organizations.amazonaws.com'
        and event_name in ('LeaveOrganization', 'RemoveAccountFromOrganization')

)

select * from final
