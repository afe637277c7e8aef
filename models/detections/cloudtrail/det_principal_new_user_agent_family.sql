-- Principal using a tool it never used

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        {{ direct_human_call() }}
        and user_agent is not null
        and user_agent not like '%.amazonaws.com%'
        and user_agent not like 'AWS Internal%'

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_user_agent_family',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
