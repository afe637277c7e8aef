{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='cloudtrail_events',
        watermark='landed_at',
        order_by='kind, subject, key_value',
        content_key='kind, subject, key_value',
    )
}}

-- What each subject did each day, per kind of baseline (macros/baselines.sql): the state
-- first-seen detections read instead of the raw history. A day is rebuilt from that day's
-- events only, when they change; `baselines` sums the days into the current baseline.

with

events as (

    select * from {{ lake_working_set(ref('cloudtrail_events')) }}
    where {{ lake_partition_filter() }}

),

keyed as (

    {% for name, kind in baseline_kinds().items() %}
        select
            {{ sql_string(name) }} as kind,
            {{ kind.subject }} as subject,
            {{ kind.key }} as key_value,
            event_time,
            event_date
        from events
        where {{ kind.where }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        kind,
        subject,
        key_value,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        cast(count(*) as bigint) as event_count,
        event_date
    from keyed
    where subject is not null and key_value is not null
    group by 1, 2, 3, 7

)

select * from final
