-- Calls by the caller's country (GeoIP; "unknown" without TRAILHOUSE_GEOIP_DB or for
-- private and AWS-internal addresses).
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        coalesce(source_country, 'unknown') as country,
        count(*) as calls,
        count(distinct principal_arn) as principals,
        count(distinct source_ip) as source_ips
    from events
    group by 1
    order by 2 desc, 1
    limit {{ var('top', 20) | int }}

)

select * from final
