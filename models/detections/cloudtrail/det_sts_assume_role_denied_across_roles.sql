-- AssumeRole denied on many roles

with

events as (

    select * from {{ detection_events() }}

),

denied as (

    select
        *,
        -- the role asked for: from the request, or from the error message when it is absent
        coalesce(
            {{ json_string('request_parameters', '$.roleArn') }},
            {{ regex_extract(
                'error_message', 'on resource: (arn:aws[a-z-]*:iam::[0-9]{12}:role/[^ ]+)', 1
            ) }}
        ) as requested_role
    from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'AssumeRole'
        and error_code like '%AccessDenied%'

),

final as (

    {{ threshold_matches(
        'denied',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct='requested_role'
    ) }}

)

select {{ star_except(['requested_role']) }} from final
