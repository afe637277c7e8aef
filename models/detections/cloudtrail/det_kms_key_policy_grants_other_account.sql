-- KMS key policy grants access to another account

with

events as (

    select * from {{ detection_events() }}

),

key_policies as (

    select
        *,
        {{ json_string('request_parameters', '$.policy') }} as key_policy
    from events
    where
        event_source = 'kms.amazonaws.com'
        and event_name in ('PutKeyPolicy', 'CreateKey')
        and error_code is null

),

-- cheap pre-filter before parsing: an account id other than the key's own in the policy
candidates as (

    select * from key_policies
    where {{ list_any(
        regex_extract_all('key_policy', '[":]([0-9]{12})[":]', 1),
        'account',
        'account != recipient_account_id'
    ) }}

),

final as (

    select {{ star_except(['key_policy']) }} from candidates
    where
        -- an Allow statement naming another account: as a principal (arn:aws:iam::<account>:...
        -- or the bare id) or in a condition (kms:CallerAccount); Deny statements do not count
        -- parsed only for accepted calls: a rejected document need not be JSON
        case
            when error_code is null
                then {{ list_any(
                    json_path_strings('key_policy', ['Statement']),
                    'stmt',
                    json_string('stmt', '$.Effect') ~ " = 'Allow'"
                    ~ ' and ' ~ list_any(
                        list_concat([
                            regex_extract_all('stmt', 'arn:aws[a-z-]*:iam::([0-9]{12}):', 1),
                            regex_extract_all('stmt', '"([0-9]{12})"', 1),
                        ]),
                        'account',
                        'account != recipient_account_id'
                    )
                ) }}
            else false
        end

)

select * from final
