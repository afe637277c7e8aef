-- EFS file system deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'elasticfilesystem.amazonaws.com'
        and event_name = 'DeleteFileSystem'
        and not {{ acted_by_aws_service() }}

)

select * from final
