-- API calls from an offensive tool or OS

with

events as (

    select * from {{ detection_events() }}

),

suspicious_user_agents as (

    select * from {{ ref('suspicious_user_agents') }}

),

final as (

    select * from events
    where exists (
        select 1
        from suspicious_user_agents
        -- both sides lowered: the seed's patterns keep the tools' own casing (`Python/2.`)
        where {{ matches_glob(
            'lower(events.user_agent)', 'lower(suspicious_user_agents.user_agent_pattern)'
        ) }}
    )

)

select * from final
