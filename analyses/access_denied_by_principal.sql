-- Who is being denied, on what, from where: a first look for stolen-credential recon.
-- `dbt compile` renders it; run the compiled SQL in duckdb.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

denied as (

    select
        principal_type,
        principal_name,
        source_ip_address,
        count(*) as denied_calls,
        count(distinct event_source || ':' || event_name) as distinct_actions,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    where error_code in ('AccessDenied', 'Client.UnauthorizedOperation', 'AccessDeniedException')
    group by 1, 2, 3

),

final as (

    select * from denied
    order by 4 desc

)

select * from final
