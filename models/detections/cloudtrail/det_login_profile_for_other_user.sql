-- Console password set for another user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateLoginProfile', 'UpdateLoginProfile')
        and resource_name is not null
        -- a user managing their own credentials, also through an SSO or federated session
        and not coalesce({{ is_callers_own_user('resource_name') }}, false)

)

select * from final
