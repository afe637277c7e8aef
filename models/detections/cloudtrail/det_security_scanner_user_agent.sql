-- Cloud security scanner reading the account

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

scanner_user_agents as (

    -- only scanners: a user agent that also names an offensive tool or OS (a scanner run from
    -- Kali) is aws-attack-tool-user-agent's
    select user_agents.user_agent
    from user_agents
    inner join suspicious_user_agents
        on {{ user_agent_matches(
            'user_agents.user_agent', 'suspicious_user_agents.user_agent_pattern'
        ) }}
    group by 1
    having
        min(
            case
                when coalesce(suspicious_user_agents.tool_kind, 'offensive') = 'scanner' then 1
                else 0
            end
        ) = 1

),

final as (

    select events.*
    from events
    inner join scanner_user_agents
        on events.user_agent = scanner_user_agents.user_agent
    -- what a scanner writes is aws-attack-tool-user-agent's; a call CloudTrail does not mark
    -- either way stays here
    where coalesce(events.read_only, true)

)

select * from final
