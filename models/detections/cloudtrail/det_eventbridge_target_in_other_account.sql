-- EventBridge rule sends events to another account

with

events as (

    select * from {{ detection_events() }}

),

targets as (

    select
        *,
        -- the account of every target ARN (an event bus, queue, topic, function ...); a role
        -- to deliver with is `roleArn`, not a target, and AWS-owned ARNs name no account
        {{ regex_extract_all(
            json_text('request_parameters'),
            '(?i)"arn"\\s*:\\s*"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}):',
            1,
        ) }} as target_accounts
    from events
    where
        event_source = 'events.amazonaws.com'
        and event_name = 'PutTargets'
        and error_code is null
        and not {{ acted_by_aws_service() }}

),

final as (

    select {{ star_except(['target_accounts']) }}
    from targets
    where {{ list_any('target_accounts', 'account', 'account != recipient_account_id') }}

)

select * from final
