-- Cost and billing data read by a workload identity

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source in ('ce.amazonaws.com', 'billing.amazonaws.com', 'cur.amazonaws.com')
        and error_code is null
        and coalesce(user_agent, '') not like '%console.amazonaws.com%'
        and coalesce(user_agent, '') not like 'Mozilla/%'

)

select * from final
