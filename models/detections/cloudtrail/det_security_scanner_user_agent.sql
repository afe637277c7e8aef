-- Cloud security scanner reading the account

with

events as (

    select * from {{ detection_events() }}

),

tool_user_agents as (

    {{ suspicious_tool_user_agents('events') }}

),

final as (

    select events.*
    from events
    inner join tool_user_agents
        on events.user_agent = tool_user_agents.user_agent
    where
        -- only scanners: a user agent that also names an offensive tool or OS (a scanner run
        -- from Kali) is aws-attack-tool-user-agent's
        not tool_user_agents.is_offensive
        -- what a scanner writes is aws-attack-tool-user-agent's; a call CloudTrail does not
        -- mark either way stays here
        and coalesce(events.read_only, true)

)

select * from final
