-- S3 bucket configuration enumerated across many buckets

with

events as (

    select * from {{ detection_events() }}

),

lookups as (

    -- failed calls count: "no policy", "no encryption configuration" are how most of them end
    select
        *,
        {{ json_string('request_parameters', '$.bucketName') }} as bucket
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in (
            'GetBucketAcl',
            'GetBucketPolicy',
            'GetBucketPolicyStatus',
            'GetBucketPublicAccessBlock',
            'GetBucketLocation',
            'GetBucketEncryption',
            'GetBucketVersioning',
            'GetBucketLogging',
            'ListObjects',
            'ListObjectsV2'
        )
        and not {{ acted_by_aws_service() }}
        -- the S3 console asks for the access settings of every bucket it lists
        and coalesce(user_agent, '') not like '%S3Console%'

),

final as (

    {{ threshold_matches(
        'lookups',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 10),
        distinct='bucket'
    ) }}

)

select {{ star_except(['bucket']) }} from final
