-- AWS budget deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'budgets.amazonaws.com'
        and event_name in ('DeleteBudget', 'DeleteNotification')
        and error_code is null

)

select * from final
