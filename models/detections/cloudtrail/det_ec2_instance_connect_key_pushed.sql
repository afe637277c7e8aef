-- SSH key pushed with EC2 Instance Connect

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        error_code is null
        and (
            (
                event_source = 'ec2-instance-connect.amazonaws.com'
                and event_name in ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey')
            )
            or (
                event_source = 'ec2.amazonaws.com'
                and event_name = 'EnableSerialConsoleAccess'
            )
        )

)

select * from final
