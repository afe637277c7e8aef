-- Role trust policy opened to another account

with

events as (

    select * from {{ detection_events() }}

),

trust_changes as (

    select
        events.*,
        {%- set trust = 'coalesce('
            ~ json_string('request_parameters', '$.assumeRolePolicyDocument') ~ ', '
            ~ json_string('request_parameters', '$.policyDocument') ~ ')' %}
        {{ foreign_accounts(
            policy_granted_accounts(trust), 'recipient_account_id', 'our_accounts.our_account_ids'
        ) }} as foreign_account_ids
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 'iam.amazonaws.com'
        and events.event_name in ('CreateRole', 'UpdateAssumeRolePolicy')

),

final as (

    select {{ star_except(['foreign_account_ids']) }}
    from trust_changes
    where {{ list_size('foreign_account_ids') }} > 0

)

select * from final
