-- IAM user changed their own permissions

with

events as (

    select * from {{ detection_events() }}

),

permission_changes as (

    select
        *,
        {{ json_string('request_parameters', '$.userName') }} as target_user
    from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('AttachUserPolicy', 'PutUserPolicy', 'AddUserToGroup')
        and not {{ acted_by_aws_service() }}

),

final as (

    select {{ star_except(['target_user']) }} from permission_changes
    where
        target_user is not null
        -- the caller's own IAM user (also a person's user reached through their SSO session)
        and coalesce({{ is_callers_own_user('target_user') }}, false)

)

select * from final
