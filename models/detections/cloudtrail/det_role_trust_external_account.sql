-- Role trust policy opened to another account

with

events as (

    select * from {{ detection_events() }}

),

trust_changes as (

    select
        *,
        {{ regex_extract_all(
            'coalesce('
            ~ json_string('request_parameters', '$.assumeRolePolicyDocument') ~ ', '
            ~ json_string('request_parameters', '$.policyDocument') ~ ')',
            'arn:aws:iam::([0-9]{12}):',
            1,
        ) }} as trusted_accounts
    from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateRole', 'UpdateAssumeRolePolicy')

),

final as (

    select {{ star_except(['trusted_accounts']) }}
    from trust_changes
    where {{ list_any('trusted_accounts', 'account', 'account != recipient_account_id') }}

)

select * from final
