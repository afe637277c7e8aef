-- KMS key policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

key_policies as (

    select
        events.*,
        -- accounts an Allow statement names (a principal, or a condition such as
        -- kms:CallerAccount) that are not ours; Deny and org-confined statements grant nothing
        {{ foreign_accounts(
            policy_granted_accounts(json_string('request_parameters', '$.policy')),
            'recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids,
        -- anyone ("*", an ARN in any account), with no condition confining who: every
        -- account, which names none (KMS has no public-key detection of its own)
        {{ policy_allows_anyone(json_string('request_parameters', '$.policy')) }} as allows_anyone
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 'kms.amazonaws.com'
        and events.event_name in ('PutKeyPolicy', 'CreateKey')
        and events.error_code is null

),

final as (

    select {{ star_except(['foreign_account_ids', 'allows_anyone']) }} from key_policies
    where {{ list_size('foreign_account_ids') }} > 0 or allows_anyone

)

select * from final
