-- Access key used from a new address

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and invoked_by is null
        and access_key_id like 'AKIA%'
        and source_ip is not null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'access_key_source_ip',
        min_history_days=detection_param('min_history_days', 3)
    ) }}

)

select * from final
