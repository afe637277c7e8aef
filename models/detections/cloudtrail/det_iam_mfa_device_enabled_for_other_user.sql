-- MFA device enabled for another user

with

events as (

    select * from {{ detection_events() }}

),

enabled as (

    select
        *,
        {{ json_string('request_parameters', '$.userName') }} as mfa_user
    from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'EnableMFADevice'
        and not {{ acted_by_aws_service() }}

),

final as (

    select {{ star_except(['mfa_user']) }} from enabled
    where
        mfa_user is not null
        -- a user registering their own device, also through an SSO session named after them
        and not coalesce({{ is_callers_own_user('mfa_user') }}, false)

)

select * from final
