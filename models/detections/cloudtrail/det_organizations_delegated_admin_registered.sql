-- Delegated administrator registered in the organization

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'organizations.amazonaws.com'
        and event_name = 'RegisterDelegatedAdministrator'

)

select * from final
