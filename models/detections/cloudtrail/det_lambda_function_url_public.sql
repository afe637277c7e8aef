-- Lambda function URL without authentication

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and (
            event_name like 'CreateFunctionUrlConfig%'
            or event_name like 'UpdateFunctionUrlConfig%'
        )
        and upper({{ json_string('request_parameters', '$.authType') }}) = 'NONE'

)

select * from final
