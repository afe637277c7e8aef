{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__automation')) }}

-- Marks calls made by known automation (Terraform, monitoring agents, application SDKs),
-- recognized by user agent patterns in the `automation_user_agents` seed (matched as
-- user_agent_matches() normalises them, macros/user_agents.sql). A user agent is whatever the
-- caller says, and automation lowers the severity of mass deletion and tampering, so the claim
-- must be vouched for: by the principal (the row's `principal_pattern`, matched against the
-- caller's ARN and its role's, in the account called: a role of that name in another account is
-- anyone's) or, for a row without one, by an address of our own networks (inventory_networks;
-- not merely AWS's ranges, where anyone can rent an instance; and a private address only when
-- no VPC endpoint of another account carried the call, since anyone can number a VPC like ours).
-- One read of `events`: the match is a correlated subquery, which the engine evaluates once per
-- distinct caller. (A CTE of the events referenced twice is materialized by DuckDB whole,
-- before the partition filter of cloudtrail_events reaches it: every day's build then
-- read the lake.)
{%- set from_own_network -%}
    coalesce(
        events.source_network_trust != 'aws'
        and (
            events.vpc_endpoint_account_id is null
            or events.vpc_endpoint_account_id in (events.recipient_account_id, events.account_id)
        ),
        false
    )
{%- endset %}

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__automation') }}

),

automation_user_agents as (

    select
        user_agent_pattern,
        automation_name,
        {{ seed_text('principal_pattern') }} as principal_pattern,
        length(user_agent_pattern) as specificity
    from {{ ref('automation_user_agents') }}

),

named as (

    select
        events.*,
        -- the longest matching pattern whose vouching the caller satisfies names the automation
        (
            select max_by(rules.automation_name, rules.specificity)
            from automation_user_agents as rules
            where
                {{ user_agent_matches('events.user_agent', 'rules.user_agent_pattern') }}
                and (
                    (rules.principal_pattern is null and {{ from_own_network }})
                    or (
                        coalesce(events.account_id = events.recipient_account_id, false)
                        and (
                            {{ matches_glob('events.principal_arn', 'rules.principal_pattern') }}
                            or {{ matches_glob(
                                'events.session_issuer_arn', 'rules.principal_pattern'
                            ) }}
                        )
                    )
                )
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
