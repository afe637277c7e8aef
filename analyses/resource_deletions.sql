-- Resource deletions by principal and service: cleanup, or someone destroying things.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

deletions as (

    select
        principal_name,
        event_source,
        event_name,
        count(*) as deletions,
        count(*) filter (where error_code is null) as succeeded,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    where regexp_matches(event_name, '^(Delete|Terminate|Remove|Deregister|Disable|Purge)')
    group by 1, 2, 3

),

final as (

    select * from deletions
    order by 4 desc

)

select * from final
