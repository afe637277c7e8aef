-- Inline policy granting *:*
-- meta (id, severity, ATT&CK, dedup) in _cloudtrail__detections.yml

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
        and regexp_matches(
            regexp_replace(
                {{ json_string('request_parameters', '$.policyDocument') }}, '\s', '', 'g'
            ),
            '"Action":\[?"\*"'
        )
        and regexp_matches(
            regexp_replace(
                {{ json_string('request_parameters', '$.policyDocument') }}, '\s', '', 'g'
            ),
            '"Resource":\[?"\*"'
        )

)

select * from final
