-- S3 object made public by its ACL

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        -- a large upload sets its ACL when the multipart upload starts
        and event_name in ('PutObjectAcl', 'PutObject', 'CopyObject', 'CreateMultipartUpload')
        and error_code is null
        and {{ s3_acl_grants_everyone() }}

)

select * from final
