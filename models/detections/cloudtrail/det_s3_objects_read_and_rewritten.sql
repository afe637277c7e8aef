-- S3 objects downloaded and overwritten in bulk

with

events as (

    select * from {{ detection_events() }}

),

objects as (

    select
        *,
        {{ json_string('request_parameters', '$.bucketName') }} as bucket,
        {{ json_string('request_parameters', '$.key') }} as object_key
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('GetObject', 'PutObject', 'CopyObject')
        and error_code is null

),

rewrites as (

    -- a write of an object the same principal read in the ten minutes before
    select * from objects as written
    where
        written.event_name in ('PutObject', 'CopyObject')
        and exists (
            select 1 from objects as fetched
            where
                fetched.event_name = 'GetObject'
                and fetched.principal_arn = written.principal_arn
                and fetched.bucket = written.bucket
                and fetched.object_key = written.object_key
                and fetched.event_time <= written.event_time
                and {{ epoch_milliseconds('fetched.event_time') }}
                >= {{ epoch_milliseconds('written.event_time') }} - 600000
        )

),

final as (

    select {{ star_except(['bucket', 'object_key']) }}
    from (
        {{ threshold_matches(
            'rewrites',
            ['principal_arn', 'bucket'],
            minutes=detection_param('minutes', 10),
            at_least=detection_param('at_least', 5),
            distinct='object_key'
        ) }}
    ) as bursts

)

select * from final
