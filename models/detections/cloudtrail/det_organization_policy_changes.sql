-- Organization service control policy changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'organizations.amazonaws.com'
        and error_code is null
        and event_name in (
            'DetachPolicy',
            'DeletePolicy',
            'UpdatePolicy',
            'DisablePolicyType',
            'DisableAWSServiceAccess'
        )

)

select * from final
