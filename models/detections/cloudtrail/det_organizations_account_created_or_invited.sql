-- Account created in or invited to the organization

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'organizations.amazonaws.com'
        and event_name in ('CreateAccount', 'CreateGovCloudAccount', 'InviteAccountToOrganization')
        and error_code is null

)

select * from final
