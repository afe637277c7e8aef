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
        and (
            event_name in (
                'AttachUserPolicy',
                'AttachRolePolicy',
                'AttachGroupPolicy',
                'PutUserPolicy',
                'PutRolePolicy',
                'PutGroupPolicy',
                'CreatePolicyVersion',
                'SetDefaultPolicyVersion',
                'UpdateAssumeRolePolicy',
                'AddUserToGroup',
                'CreateAccessKey',
                'CreateLoginProfile',
                'UpdateLoginProfile',
                'DeleteBucket',
                'DeleteObjects',
                'TerminateInstances',
                'DeleteDBInstance',
                'DeleteDBCluster',
                'DeleteVolume',
                'DeleteSnapshot',
                'DeleteDBSnapshot',
                'ScheduleKeyDeletion',
                'DeleteUser',
                'DeleteRole',
                'DeleteFunction20150331',
                'DeleteTable',
                'DeleteFileSystem',
                'DeleteBackupVault',
                'DeleteRecoveryPoint',
                'DeleteLogGroup'
            )
        )

),

final as (

    {{ sequence_matches([
        {'relation': 'disabled', 'key': 'principal_arn'},
        {'relation': 'followed', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
