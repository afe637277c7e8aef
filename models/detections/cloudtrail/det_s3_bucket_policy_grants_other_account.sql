-- S3 bucket policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        -- every account named as an IAM principal (arn:aws:iam::<account>:...) in the policy
        {{ regex_extract_all(
            json_text('request_parameters'), 'arn:aws[a-z-]*:iam::([0-9]{12}):', 1
        ) }} as named_accounts
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'PutBucketPolicy'
        and {{ regex_matches(json_text('request_parameters'), '"Effect"\\s*:\\s*"Allow"') }}

),

final as (

    select {{ star_except(['named_accounts']) }} from policies
    where {{ list_size(list_filter(
        'named_accounts', 'account', 'account != recipient_account_id'
    )) }} > 0

)

select * from final
