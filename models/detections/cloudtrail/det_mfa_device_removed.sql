-- MFA device deactivated or deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
        and error_code is null

)

select * from final
