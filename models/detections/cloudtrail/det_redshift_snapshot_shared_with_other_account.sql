-- Redshift snapshot shared with another account

with

events as (

    select * from {{ detection_events() }}

),

grants as (

    select
        events.*,
        -- not ours (the event's account, the inventory's) and not AWS Support's own
        -- account, named for a support case
        {{ foreign_accounts(
            list_filter(
                list_of([json_string('request_parameters', '$.accountWithRestoreAccess')]),
                'account',
                "account is not null and account != 'amazon-redshift-support'",
            ),
            'events.recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 'redshift.amazonaws.com'
        and events.event_name = 'AuthorizeSnapshotAccess'

),

final as (

    select {{ star_except(['foreign_account_ids']) }} from grants
    where {{ list_size('foreign_account_ids') }} > 0

)

select * from final
