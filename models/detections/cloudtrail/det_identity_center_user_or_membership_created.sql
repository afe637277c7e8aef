-- Identity Center user created or added to a group by hand

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'identitystore.amazonaws.com'
        and event_name in ('CreateUser', 'CreateGroupMembership')
        -- a person, not SCIM provisioning from the identity provider or automation
        and {{ direct_human_call() }}

)

select * from final
