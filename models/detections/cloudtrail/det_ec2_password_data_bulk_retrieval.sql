-- Windows administrator passwords retrieved in bulk

with

events as (

    select * from {{ detection_events() }}

),

password_reads as (

    -- denied calls count: an attacker probing instance after instance fails most of them
    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'GetPasswordData'

),

final as (

    {{ threshold_matches(
        'password_reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct=json_string('request_parameters', '$.instanceId')
    ) }}

)

select * from final
