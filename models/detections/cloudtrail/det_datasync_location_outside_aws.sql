-- DataSync location created outside AWS

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'datasync.amazonaws.com'
        and event_name in (
            'CreateLocationObjectStorage',
            'CreateLocationAzureBlob',
            'CreateLocationNfs',
            'CreateLocationSmb',
            'CreateLocationHdfs'
        )
        and error_code is null

)

select * from final
