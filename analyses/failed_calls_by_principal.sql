-- Failed and unauthorized calls by principal: a first look for stolen-credential recon.
-- `ingest query failed_calls_by_principal`, or `dbt compile` and run the compiled SQL.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

failed as (

    select
        principal_type,
        principal_name,
        principal_arn,
        count(*) as failed_calls,
        count(*) filter (
            where error_code like '%AccessDenied%' or error_code like '%Unauthorized%'
        ) as denied_calls,
        count(distinct event_source || ':' || event_name) as distinct_actions,
        list_sort(list_distinct(list(error_code))) as error_codes,
        list_sort(list_distinct(list(source_ip_address))) as source_ips,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    where error_code is not null
    group by 1, 2, 3

),

final as (

    select * from failed
    order by 5 desc, 4 desc, 3

)

select * from final
