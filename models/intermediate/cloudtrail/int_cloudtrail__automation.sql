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
{%- set from_own_network -%}
    coalesce(
        source_network_trust != 'aws'
        and (
            vpc_endpoint_account_id is null
            or vpc_endpoint_account_id in (recipient_account_id, account_id)
        ),
        false
    )
{%- endset %}
{%- set in_called_account = 'coalesce(account_id = recipient_account_id, false)' %}

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__automation') }}

),

automation_user_agents as (

    select
        user_agent_pattern,
        automation_name,
        {{ seed_text('principal_pattern') }} as principal_pattern
    from {{ ref('automation_user_agents') }}

),

-- each distinct user agent is normalised and matched once (a regular expression replace per
-- event and pattern costs more than the rest of the step)
user_agents as (

    select distinct user_agent
    from events
    where user_agent is not null

),

matched_rules as (

    select
        user_agents.user_agent,
        automation_user_agents.automation_name,
        automation_user_agents.principal_pattern,
        length(automation_user_agents.user_agent_pattern) as specificity
    from user_agents
    inner join automation_user_agents
        on {{ user_agent_matches(
            'user_agents.user_agent', 'automation_user_agents.user_agent_pattern'
        ) }}

),

-- the callers behind those user agents, each judged once
callers as (

    select distinct
        user_agent,
        coalesce(principal_arn, '') as principal_arn,
        coalesce(session_issuer_arn, '') as session_issuer_arn,
        {{ from_own_network }} as from_own_network,
        {{ in_called_account }} as in_called_account
    from events
    where user_agent in (select matched_rules.user_agent from matched_rules)

),

-- the longest matching pattern the caller satisfies names the automation
named_callers as (

    select
        callers.user_agent,
        callers.principal_arn,
        callers.session_issuer_arn,
        callers.from_own_network,
        callers.in_called_account,
        max_by(matched_rules.automation_name, matched_rules.specificity) as automation_name
    from callers
    inner join matched_rules
        on
            callers.user_agent = matched_rules.user_agent
            and (
                (matched_rules.principal_pattern is null and callers.from_own_network)
                or callers.in_called_account and (
                    {{ matches_glob('callers.principal_arn', 'matched_rules.principal_pattern') }}
                    or {{ matches_glob(
                        'callers.session_issuer_arn', 'matched_rules.principal_pattern'
                    ) }}
                )
            )
    group by 1, 2, 3, 4, 5

),

final as (

    select
        events.*,
        named_callers.automation_name,
        named_callers.automation_name is not null as is_automation
    from events
    left join named_callers
        on
            events.user_agent = named_callers.user_agent
            and coalesce(events.principal_arn, '') = named_callers.principal_arn
            and coalesce(events.session_issuer_arn, '') = named_callers.session_issuer_arn
            -- (columns named once: only `events` has them)
            and {{ from_own_network }} = named_callers.from_own_network
            and {{ in_called_account }} = named_callers.in_called_account

)

select * from final
