-- Secrets Manager resource policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        events.*,
        nullif({{ json_string('request_parameters', '$.resourcePolicy') }}, '') as policy_text
    from events
    where
        -- a policy the service rejected grants nothing
        error_code is null
        and event_source = 'secretsmanager.amazonaws.com'
        and event_name = 'PutResourcePolicy'

),

grants as (

    -- the accounts Allow statements grant that are not ours (macros/policies.sql)
    select
        policies.*,
        {{ foreign_accounts(
            policy_granted_accounts('policy_text'),
            'recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids
    from policies
    cross join {{ our_accounts() }} as our_accounts

),

final as (

    select {{ star_except(['policy_text', 'foreign_account_ids']) }} from grants
    where {{ list_size('foreign_account_ids') }} > 0

)

select * from final
