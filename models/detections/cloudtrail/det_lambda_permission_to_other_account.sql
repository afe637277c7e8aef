-- Lambda function permission granted to another account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        -- CloudTrail names the call after the API version: AddPermission20150331v2
        and event_name like 'AddPermission%'
        -- the principal is an account id or an IAM ARN of one (not a service principal)
        and {{ regex_extract(
            json_string('request_parameters', '$.principal'),
            '^(arn:aws[a-z-]*:iam::)?([0-9]{12})(:.*)?$',
            2
        ) }} != recipient_account_id

)

select * from final
