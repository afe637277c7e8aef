-- S3 Block Public Access removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        (
            event_name in (
                'DeleteBucketPublicAccessBlock',
                'DeletePublicAccessBlock',
                'DeleteAccountPublicAccessBlock'
            )
            or (
                event_name in (
                    'PutBucketPublicAccessBlock',
                    'PutPublicAccessBlock',
                    'PutAccountPublicAccessBlock'
                )
                and {{ regex_matches(
                    json_text('request_parameters'),
                    '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy'
                    ~ '|RestrictPublicBuckets)": ?false'
                ) }}
            )
        )

)

select * from final
