-- S3 bucket policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        -- every account the policy names: in an IAM ARN (arn:aws:iam::<account>:...) or bare
        -- ("AWS": "<account>", or a condition's aws:SourceAccount)
        {{ list_concat([
            regex_extract_all(
                json_text('request_parameters'), 'arn:aws[a-z-]*:iam::([0-9]{12}):', 1
            ),
            regex_extract_all(json_text('request_parameters'), '"([0-9]{12})"', 1),
        ]) }} as named_accounts
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'PutBucketPolicy'
        and {{ regex_matches(json_text('request_parameters'), '"Effect"\\s*:\\s*"Allow"') }}

),

final as (

    select {{ star_except(['named_accounts']) }} from policies
    where {{ list_size(list_filter(
        'named_accounts',
        'account',
        'account != recipient_account_id and account not in ('
        ~ sql_in_items(elb_log_delivery_accounts()) ~ ')'
    )) }} > 0

)

select * from final
