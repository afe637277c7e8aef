-- AssumeRole from an address new for the caller

with

events as (

    select * from {{ detection_events() }}

),

assumptions as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name like 'AssumeRole%'
        and error_code is null
        and source_ip is not null

),

final as (

    {{ first_seen_matches(
        'assumptions',
        'principal_source_ip',
        min_history_days=detection_param('min_history_days', 3)
    ) }}

)

select * from final
