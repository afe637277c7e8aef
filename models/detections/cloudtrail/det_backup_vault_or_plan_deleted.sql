-- AWS Backup vault, plan, lock or recovery point deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'backup.amazonaws.com'
        and event_name in (
            'DeleteBackupVault',
            'DeleteBackupPlan',
            'DeleteBackupSelection',
            'DeleteBackupVaultLockConfiguration',
            'DeleteRecoveryPoint',
            'DeleteBackupVaultAccessPolicy'
        )
        and not {{ acted_by_aws_service() }}

)

select * from final
