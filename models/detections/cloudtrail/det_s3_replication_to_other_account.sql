-- S3 replication to another account

with

events as (

    select * from {{ detection_events() }}

),

replications as (

    select
        *,
        {{ regex_extract_all(
            json_text('request_parameters'), '"Account": ?"([0-9]{12})"', 1
        ) }} as destination_accounts
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'PutBucketReplication'
        and error_code is null

),

final as (

    select {{ star_except(['destination_accounts']) }}
    from replications
    where {{ list_any('destination_accounts', 'account', 'account != recipient_account_id') }}

)

select * from final
