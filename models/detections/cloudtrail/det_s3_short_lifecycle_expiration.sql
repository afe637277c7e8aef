-- S3 lifecycle rule deleting objects within days

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
        and error_code is null
        -- the shortest "Days" of any rule (try_cast: "Days": 99999999999 in one record must
        -- not fail the build of every alert)
        and {{ list_min(list_transform(
            regex_extract_all(json_text('request_parameters'), '"Days": ?"?([0-9]+)', 1),
            'days',
            'try_cast(days as bigint)',
        )) }} <= 7

)

select * from final
