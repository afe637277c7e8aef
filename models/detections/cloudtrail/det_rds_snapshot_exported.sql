-- RDS snapshot exported to S3

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'rds.amazonaws.com'
        and event_name = 'StartExportTask'

)

select * from final
