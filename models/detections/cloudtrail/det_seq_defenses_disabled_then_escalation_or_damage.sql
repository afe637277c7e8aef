-- Security monitoring disabled, then escalation or damage

with

events as (

    select * from {{ detection_events() }}

),

disabled as (

    select * from events
    where
        error_code is null
        and event_name in (
            'DeleteDetector',
            'DisassociateFromMasterAccount',
            'DisassociateFromAdministratorAccount',
            'CreateFilter',
            'DisableSecurityHub',
            'BatchDisableStandards',
            'StopConfigurationRecorder',
            'DeleteConfigurationRecorder',
            'DeleteDeliveryChannel',
            'DisableMacie',
            'DeleteFlowLogs'
        )

),

followed as (

    select * from events
    where
        error_code is null
        and event_name in (
            {{ sql_in_items(privilege_change_api_calls() + destructive_api_calls()) }}
        )

),

final as (

    {{ sequence_matches([
        {'relation': 'disabled', 'key': 'principal_arn'},
        {'relation': 'followed', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
