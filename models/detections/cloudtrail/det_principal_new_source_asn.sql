-- API calls from a network new for the principal

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        {{ direct_human_call() }}
        and source_asn is not null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_source_asn',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
