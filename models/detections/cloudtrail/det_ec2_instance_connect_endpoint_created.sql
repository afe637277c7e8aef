-- EC2 Instance Connect endpoint created

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'CreateInstanceConnectEndpoint'

)

select * from final
