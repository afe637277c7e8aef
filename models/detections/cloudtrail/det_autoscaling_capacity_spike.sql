-- Auto Scaling group capacity raised sharply by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'autoscaling.amazonaws.com'
        and event_name in (
            'CreateAutoScalingGroup', 'UpdateAutoScalingGroup', 'SetDesiredCapacity'
        )
        and {{ direct_human_call() }}
        and (
            {{ number_compare(
                json_string('request_parameters', '$.desiredCapacity'),
                '>=',
                detection_param('min_capacity', 50),
            ) }}
            or {{ number_compare(
                json_string('request_parameters', '$.maxSize'),
                '>=',
                detection_param('min_capacity', 50),
            ) }}
        )

)

select * from final
