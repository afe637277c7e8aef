-- S3 server access logging turned off

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'PutBucketLogging'
        and error_code is null
        and not contains({{ json_text('request_parameters') }}, 'LoggingEnabled')

)

select * from final
