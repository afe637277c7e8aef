-- EC2 instance or image exported

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('CreateInstanceExportTask', 'ExportImage')

)

select * from final
