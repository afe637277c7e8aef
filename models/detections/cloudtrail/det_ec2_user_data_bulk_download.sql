-- EC2 user data downloaded in bulk

with

events as (

    select * from {{ detection_events() }}

),

user_data_reads as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'DescribeInstanceAttribute'
        and {{ json_string('request_parameters', '$.attribute') }} = 'userData'

),

final as (

    {{ threshold_matches(
        'user_data_reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct=json_string('request_parameters', '$.instanceId')
    ) }}

)

select * from final
