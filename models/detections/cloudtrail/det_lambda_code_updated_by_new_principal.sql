-- Lambda code updated by a principal new to the function

with

events as (

    select * from {{ detection_events() }}

),

code_updates as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and event_name like 'UpdateFunctionCode%'
        and error_code is null
        and resource_name is not null

),

final as (

    {{ first_seen_matches(
        'code_updates',
        'lambda_function_code_updater',
        min_history_days=detection_param('min_history_days', 3)
    ) }}

)

select * from final
