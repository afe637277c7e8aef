-- Security Hub disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'securityhub.amazonaws.com'
        and event_name in (
            'DisableSecurityHub',
            'BatchDisableStandards',
            'DisassociateFromMasterAccount',
            'DisassociateFromAdministratorAccount'
        )

)

select * from final
