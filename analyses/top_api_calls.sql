-- The most called APIs, with how many principals call them and how often they fail.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

calls as (

    select
        event_source,
        event_name,
        count(*) as calls,
        count(distinct principal_arn) as principals,
        count(*) filter (where error_code is not null) as failed_calls,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    group by 1, 2

),

final as (

    select * from calls
    order by 3 desc, 1, 2
    limit {{ var('top', 50) | int }}

)

select * from final
