-- Lambda function opened to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and (
            (
                event_name like 'AddPermission%'
                and {{ json_string('request_parameters', '$.principal') }} = '*'
            )
            or (
                event_name like '%FunctionUrlConfig%'
                and {{ json_string('request_parameters', '$.authType') }} = 'NONE'
            )
        )

)

select * from final
