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
        -- the policy document is a JSON string: compare it without its whitespace
        {%- set policy = regex_replace_all(
            json_string('request_parameters', '$.policyDocument'), '\\s', ''
        ) %}
        and {{ regex_matches(policy, '"Action":\\[?"\\*"') }}
        and {{ regex_matches(policy, '"Resource":\\[?"\\*"') }}

)

select * from final
