-- Customer-managed policy granting every action on every resource

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and (
            event_name = 'CreatePolicy'
            or (
                -- a version only takes effect as the default one
                event_name = 'CreatePolicyVersion'
                and {{ json_string('request_parameters', '$.setAsDefault') }} = 'true'
            )
        )
        -- an Allow of every action on every resource; a Deny, a scoped resource or a
        -- confining condition does not count
        and {{ policy_grants_admin(json_string('request_parameters', '$.policyDocument')) }}

)

select * from final
