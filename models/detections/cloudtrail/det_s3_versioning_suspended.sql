-- S3 bucket versioning suspended

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'PutBucketVersioning'
        and {{ json_string(
            'request_parameters', '$.VersioningConfiguration.Status'
        ) }} = 'Suspended'

)

select * from final
