-- GuardDuty disabled or weakened

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and (
            event_name in (
                'DeleteDetector',
                'DisassociateFromMasterAccount',
                'DisassociateFromAdministratorAccount',
                'StopMonitoringMembers',
                'DeleteMembers'
            )
            or (
                event_name = 'UpdateDetector'
                and {{ json_string('request_parameters', '$.enable') }} = 'false'
            )
        )

)

select * from final
