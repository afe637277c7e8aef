-- Redshift snapshot shared with another account

with

events as (

    select * from {{ detection_events() }}

),

grants as (

    select
        *,
        {{ json_string('request_parameters', '$.accountWithRestoreAccess') }} as restore_account
    from events
    where
        event_source = 'redshift.amazonaws.com'
        and event_name = 'AuthorizeSnapshotAccess'

),

final as (

    select {{ star_except(['restore_account']) }} from grants
    where
        restore_account != recipient_account_id
        -- AWS Support's own account, for a support case
        and restore_account != 'amazon-redshift-support'

)

select * from final
