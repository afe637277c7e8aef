-- Inline policy granting *:*

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
        and error_code is null
        and {{ policy_grants_admin(json_string('request_parameters', '$.policyDocument')) }}

)

select * from final
