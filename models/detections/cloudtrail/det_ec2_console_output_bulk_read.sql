-- EC2 console output or screenshots read in bulk

with

events as (

    select * from {{ detection_events() }}

),

console_reads as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('GetConsoleOutput', 'GetConsoleScreenshot')

),

final as (

    {{ threshold_matches(
        'console_reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct=json_string('request_parameters', '$.instanceId')
    ) }}

)

select * from final
