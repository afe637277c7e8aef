-- Log group forwarded to another account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'logs.amazonaws.com'
        and event_name = 'PutSubscriptionFilter'
        and {{ regex_extract(
            json_string('request_parameters', '$.destinationArn'),
            '^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}):',
            1
        ) }}
        != recipient_account_id

)

select * from final
