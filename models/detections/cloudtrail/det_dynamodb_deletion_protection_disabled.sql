-- DynamoDB deletion protection disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'dynamodb.amazonaws.com'
        and event_name = 'UpdateTable'
        and {{ json_string('request_parameters', '$.deletionProtectionEnabled') }} = 'false'
        and not {{ acted_by_aws_service() }}

)

select * from final
