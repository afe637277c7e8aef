-- S3 bucket policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        events.*,
        -- read statement by statement: a Deny, a statement confined to our organization and
        -- a grant to one of our accounts (the inventory's) or to AWS log delivery grant nothing
        {{ foreign_accounts(
            policy_granted_accounts(json_string('request_parameters', '$.bucketPolicy')),
            'recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 's3.amazonaws.com'
        and events.event_name = 'PutBucketPolicy'

),

final as (

    select {{ star_except(['foreign_account_ids']) }} from policies
    where {{ list_size('foreign_account_ids') }} > 0

)

select * from final
