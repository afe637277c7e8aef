-- API calls from an offensive tool or OS

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
        tool_user_agents.is_offensive
        -- a security scanner only reads: a call that writes under its name is no audit (its
        -- read-only calls are aws-security-scanner-user-agent's, at low severity)
        or events.read_only = false

)

select * from final
