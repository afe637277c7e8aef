-- SSH key pushed with EC2 Instance Connect

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        error_code is null
        -- enabling the serial console: aws-ec2-serial-console-access-enabled
        and event_source = 'ec2-instance-connect.amazonaws.com'
        and event_name in ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey')

)

select * from final
