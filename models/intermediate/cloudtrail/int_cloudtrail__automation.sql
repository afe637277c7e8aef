{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__automation')) }}

-- Marks calls made by known automation (Terraform, monitoring agents, application SDKs),
-- recognized by user agent patterns in the `automation_user_agents` seed.

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__automation') }}

),

automation_user_agents as (

    select * from {{ ref('automation_user_agents') }}

),

named as (

    select
        *,
        (
            select
                max_by(
                    automation_user_agents.automation_name,
                    length(automation_user_agents.user_agent_pattern)
                )
            from automation_user_agents
            where
                {{ matches_glob('events.user_agent', 'automation_user_agents.user_agent_pattern') }}
        ) as automation_name
    from events

),

final as (

    select
        *,
        automation_name is not null as is_automation
    from named

)

select * from final
