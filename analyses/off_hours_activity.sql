-- Human activity outside working hours (UTC, `--var work_start=7 --var work_end=19`) and on
-- weekends: console and CLI use by people, not service roles.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

human as (

    select * from events
    where
        principal_type in ('IAMUser', 'Root', 'AssumedRole', 'IdentityCenterUser')
        and not coalesce(is_automation, false)
        and source_ip_class is distinct from 'aws_service'
        and (
            hour(event_time) < {{ var('work_start', 7) | int }}
            or hour(event_time) >= {{ var('work_end', 19) | int }}
            or isodow(event_time) in (6, 7)
        )

),

final as (

    select
        principal_name,
        count(*) as calls,
        count(distinct event_date) as active_days,
        list_sort(list_distinct(list(source_ip_address))) as source_ips,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from human
    group by 1
    order by 2 desc

)

select * from final
