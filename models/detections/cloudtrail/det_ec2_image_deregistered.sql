-- EC2 AMI deregistered

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'DeregisterImage'
        and not {{ acted_by_aws_service() }}
        and not coalesce(is_automation, false)

)

select * from final
