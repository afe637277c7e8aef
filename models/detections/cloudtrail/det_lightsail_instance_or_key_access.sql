-- Lightsail instance created, opened or its keys fetched by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lightsail.amazonaws.com'
        and event_name in (
            'CreateInstances',
            'CreateInstancesFromSnapshot',
            'DownloadDefaultKeyPair',
            'GetInstanceAccessDetails',
            'OpenInstancePublicPorts',
            'PutInstancePublicPorts',
            'CreateKeyPair',
            'ImportKeyPair'
        )
        and {{ direct_human_call() }}

)

select * from final
