-- Sign-in or keys of several other users removed

with

events as (

    select * from {{ detection_events() }}

),

removals as (

    select
        *,
        {{ json_string('request_parameters', '$.userName') }} as target_user
    from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and not {{ acted_by_aws_service() }}
        and (
            event_name in ('DeleteLoginProfile', 'DeleteAccessKey', 'DeleteUser')
            or (
                event_name = 'UpdateAccessKey'
                and {{ json_string('request_parameters', '$.status') }} = 'Inactive'
            )
        )

),

-- another user's credentials: a user cleaning up their own keys does not lock anyone out
others as (

    select * from removals
    where
        target_user is not null
        and not coalesce({{ is_callers_own_user('target_user') }}, false)

),

final as (

    {{ threshold_matches(
        'others',
        ['principal_arn'],
        minutes=detection_param('minutes', 60),
        at_least=detection_param('at_least', 3),
        distinct='target_user'
    ) }}

)

select {{ star_except(['target_user']) }} from final
