-- Burst of EC2 instance launches

with

events as (

    select * from {{ detection_events() }}

),

launches as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'RunInstances'
        and not {{ acted_by_aws_service() }}

),

final as (

    {{ threshold_matches(
        'launches',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 10)
    ) }}

)

select * from final
