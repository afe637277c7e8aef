-- S3 bucket policy or ACL made public

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and error_code is null
        and (
            (
                event_name = 'PutBucketPolicy'
                and {{ policy_allows_anyone(json_string('request_parameters', '$.bucketPolicy')) }}
            )
            or (
                -- a canned ACL or a grant to everyone, on the bucket or when it is created
                event_name in ('PutBucketAcl', 'CreateBucket')
                and {{ s3_acl_grants_everyone() }}
            )
        )

)

select * from final
