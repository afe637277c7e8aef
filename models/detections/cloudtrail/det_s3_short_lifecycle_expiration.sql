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
        -- an enabled rule; transitions to other storage classes delete nothing
        and {{ regex_matches(json_text('request_parameters'), '"Status"\\s*:\\s*"Enabled"') }}
        -- the shortest expiration, of current or of noncurrent versions (try_cast:
        -- "Days": 99999999999 in one record must not fail the build of every alert)
        and {{ list_min(list_transform(
            regex_extract_all(
                json_text('request_parameters'),
                '"(?:Expiration|NoncurrentVersionExpiration)"\\s*:\\s*[{][^}]*?'
                ~ '"(?:Noncurrent)?Days"\\s*:\\s*"?([0-9]+)',
                1
            ),
            'days',
            'try_cast(days as bigint)',
        )) }} <= 7

)

select * from final
