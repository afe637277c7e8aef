-- VPC traffic mirroring session or target created

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('CreateTrafficMirrorSession', 'CreateTrafficMirrorTarget')

)

select * from final
