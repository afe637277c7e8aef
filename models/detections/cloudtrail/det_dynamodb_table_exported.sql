-- DynamoDB table exported to S3

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'dynamodb.amazonaws.com'
        and event_name = 'ExportTableToPointInTime'

)

select * from final
