-- API calls from a country new for the principal

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        {{ direct_human_call() }}
        and source_country is not null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_source_country',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
