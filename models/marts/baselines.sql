{{ config(materialized='view') }}

-- The current baseline: per kind, subject and key, when it was first and last seen, on how
-- many days and in how many events, over the last `baseline_lookback_days` (var, default 90);
-- older keys have expired. First-seen detections read `baseline_days` as of each event's day.

with

baseline_days as (

    select * from {{ ref('baseline_days') }}
    where
        event_date >= {{ date_add_days(
            utc_date('current_timestamp'), -(var('baseline_lookback_days', 90) | int)) }}

),

final as (

    select
        kind,
        subject,
        key_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(count(distinct event_date) as integer) as days_seen,
        sum(event_count) as event_count
    from baseline_days
    group by 1, 2, 3

)

select * from final
