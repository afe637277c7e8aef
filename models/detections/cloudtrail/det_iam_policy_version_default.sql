-- Managed policy version replaced

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
            event_name = 'SetDefaultPolicyVersion'
            or (
                event_name = 'CreatePolicyVersion'
                and {{ json_string('request_parameters', '$.setAsDefault') }} = 'true'
            )
        )

)

select * from final
