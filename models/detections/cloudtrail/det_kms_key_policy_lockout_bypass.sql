-- KMS key policy set with the lockout safety check bypassed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'kms.amazonaws.com'
        and event_name in ('PutKeyPolicy', 'CreateKey')
        and {{ json_string('request_parameters', '$.bypassPolicyLockoutSafetyCheck') }} = 'true'

)

select * from final
