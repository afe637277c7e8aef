-- S3 bucket default encryption removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'DeleteBucketEncryption'
        and error_code is null

)

select * from final
