-- Lambda function permission granted to another account

with

events as (

    select * from {{ detection_events() }}

),

permissions as (

    select
        events.*,
        {{ json_string('request_parameters', '$.principal') }} as grantee,
        {{ json_string('request_parameters', '$.sourceArn') }} as source_arn,
        -- the accounts the grant names: the principal's (an account id or an IAM ARN in it),
        -- the source account, and the account in the source ARN (an SNS topic's, an API's)
        {{ foreign_accounts(
            list_filter(
                list_of([
                    regex_extract(
                        json_string('request_parameters', '$.principal'),
                        '^(arn:aws[a-z-]*:iam::)?([0-9]{12})(:.*)?$',
                        2,
                    ),
                    json_string('request_parameters', '$.sourceAccount'),
                    regex_extract(
                        json_string('request_parameters', '$.sourceArn'),
                        '^arn:[^:]+:[^:]+:[^:]*:([0-9]{12}):',
                        1,
                    ),
                ]),
                'account',
                'account is not null',
            ),
            'events.recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 'lambda.amazonaws.com'
        -- CloudTrail names the call after the API version: AddPermission20150331v2
        and events.event_name like 'AddPermission%'
        -- confined to our organization: only its accounts pass
        and {{ json_string('request_parameters', '$.principalOrgID') }} is null

),

final as (

    select {{ star_except(['grantee', 'source_arn', 'foreign_account_ids']) }}
    from permissions
    where
        {{ list_size('foreign_account_ids') }} > 0
        -- a service principal (s3.amazonaws.com, sns.amazonaws.com...) with nothing saying for
        -- whom it may call: any account's bucket, topic or rule can invoke the function (the
        -- confused deputy). A source account, a source ARN in an account, a bucket ARN (S3
        -- bucket names are global) or an Alexa skill token says for whom.
        or (
            grantee != '*'
            and not {{ regex_matches('grantee', '^(arn:aws[a-z-]*:iam::)?[0-9]{12}(:.*)?$') }}
            and {{ json_string('request_parameters', '$.sourceAccount') }} is null
            and {{ json_string('request_parameters', '$.eventSourceToken') }} is null
            and coalesce(
                not {{ regex_matches(
                    'source_arn', '^arn:[^:]+:[^:]+:[^:]*:([0-9]{12}:|:[^*?]+$)'
                ) }},
                true
            )
        )

)

select * from final
