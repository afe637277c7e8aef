-- S3 bucket policy, ACL and public access block changes.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        event_id,
        recipient_account_id,
        principal_name,
        event_name,
        json_extract_string(request_parameters, '$.bucketName') as bucket_name,
        cast(request_parameters as varchar) as changed_values,
        error_code
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in (
            'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutObjectAcl',
            'PutBucketPublicAccessBlock', 'DeletePublicAccessBlock',
            'DeleteBucketPublicAccessBlock', 'PutAccountPublicAccessBlock',
            'DeleteAccountPublicAccessBlock'
        )
    order by 1, 2

)

select * from final
