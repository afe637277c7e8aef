-- KMS grant given to another account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'kms.amazonaws.com'
        and event_name = 'CreateGrant'
        and not {{ acted_by_aws_service() }}
        and {{ regex_extract(
            json_string('request_parameters', '$.granteePrincipal'),
            '^arn:aws[a-z-]*:iam::([0-9]{12}):',
            1
        ) }}
        != recipient_account_id

)

select * from final
