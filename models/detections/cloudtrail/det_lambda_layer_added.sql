-- Lambda layer attached to a function

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and event_name like 'UpdateFunctionConfiguration%'
        and error_code is null
        and {{ list_size(json_string_list('request_parameters', '$.layers[*]')) }} > 0

)

select * from final
