-- Incident response: everything that came from one IP address (CloudTrail and web), in order.
-- requires: --var ip=<address>
with

events as (

    select * from {{ ref('events') }}

),

final as (

    select
        event_time,
        source,
        category,
        severity,
        principal_name,
        summary,
        outcome,
        event_id
    from events
    where list_contains(ips, {{ sql_string(var("ip", "")) }})
    order by 1, 8

)

select * from final
