{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__automation')) }}

-- Marks calls made by known automation (Terraform, monitoring agents, application SDKs),
-- recognized by user agent patterns in the `automation_user_agents` seed (matched as
-- user_agent_matches() normalises them, macros/user_agents.sql).

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__automation') }}

),

automation_user_agents as (

    select * from {{ ref('automation_user_agents') }}

),

-- each distinct user agent is normalised and matched once (a regular expression replace per
-- event and pattern costs more than the rest of the step)
user_agents as (

    select distinct user_agent
    from events
    where user_agent is not null

),

-- the longest matching pattern names the automation
named_user_agents as (

    select
        user_agents.user_agent,
        max_by(
            automation_user_agents.automation_name,
            length(automation_user_agents.user_agent_pattern)
        ) as automation_name
    from user_agents
    inner join automation_user_agents
        on {{ user_agent_matches(
            'user_agents.user_agent', 'automation_user_agents.user_agent_pattern'
        ) }}
    group by 1

),

final as (

    select
        events.*,
        named_user_agents.automation_name,
        named_user_agents.automation_name is not null as is_automation
    from events
    left join named_user_agents
        on events.user_agent = named_user_agents.user_agent

)

select * from final
