-- API calls from an offensive tool or OS

with

events as (

    select * from {{ detection_events() }}

),

suspicious_user_agents as (

    select * from {{ ref('suspicious_user_agents') }}

),

-- each distinct user agent is normalised and matched once, not once per event
user_agents as (

    select distinct user_agent
    from events
    where user_agent is not null

),

tool_user_agents as (

    select
        user_agents.user_agent,
        -- an offensive match outranks a scanner's (Prowler run from Kali); a row without a
        -- kind counts as offensive
        max(
            case
                when coalesce(suspicious_user_agents.tool_kind, 'offensive') = 'scanner' then 0
                else 1
            end
        ) = 1 as is_offensive
    from user_agents
    inner join suspicious_user_agents
        on {{ user_agent_matches(
            'user_agents.user_agent', 'suspicious_user_agents.user_agent_pattern'
        ) }}
    group by 1

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
