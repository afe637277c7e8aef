-- S3 bucket deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'DeleteBucket'
        and not {{ acted_by_aws_service() }}

)

select * from final
