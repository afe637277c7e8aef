-- CloudFormation StackSet deployed to other accounts by a person

with

events as (

    select * from {{ detection_events() }}

),

stack_sets as (

    select
        *,
        -- the accounts the instances go to (accounts, or deploymentTargets.accounts)
        {{ regex_extract_all(json_text('request_parameters'), '"([0-9]{12})"', 1) }}
            as target_accounts
    from events
    where
        event_source = 'cloudformation.amazonaws.com'
        and event_name in ('CreateStackInstances', 'CreateStackSet')
        and {{ direct_human_call() }}

),

final as (

    select {{ star_except(['target_accounts']) }}
    from stack_sets
    where
        (
            event_name = 'CreateStackInstances'
            and (
                {{ list_any('target_accounts', 'account', 'account != recipient_account_id') }}
                -- organizational units or the organization's root: every account in them
                or {{ regex_matches(
                    json_text('request_parameters'), '"organizationalUnitIds"\\s*:\\s*\\[\\s*"'
                ) }}
            )
        )
        -- a stack set Organizations deploys to the accounts of its targets by itself
        or (
            event_name = 'CreateStackSet'
            and {{ json_string('request_parameters', '$.permissionModel') }} = 'SERVICE_MANAGED'
        )

)

select * from final
