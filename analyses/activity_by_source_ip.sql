-- Activity by source IP: who calls from where, how much, and how much of it fails.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        source_ip_address,
        any_value(source_ip_class) as source_ip_class,
        any_value(source_country) as source_country,
        count(*) as calls,
        count(distinct principal_arn) as principals,
        count(*) filter (where error_code is not null) as failed_calls,
        list_sort(list_distinct(list(principal_name)))[1:10] as some_principals,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    group by 1
    order by 4 desc, 1

)

select * from final
