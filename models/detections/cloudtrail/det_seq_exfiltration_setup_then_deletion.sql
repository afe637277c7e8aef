-- Data shared or copied out, then deleted

with

events as (

    select * from {{ detection_events() }}

),

shared as (

    select * from events
    where
        error_code is null
        and event_name in (
            'PutBucketReplication',
            'ModifySnapshotAttribute',
            'ModifyImageAttribute',
            'ModifyDBSnapshotAttribute',
            'ModifyDBClusterSnapshotAttribute',
            'CreateExportTask',
            'StartExportTask',
            'CreateDataSyncTask'
        )

),

deleted as (

    select * from events
    where
        error_code is null
        and event_name in (
            'DeleteBucket',
            'DeleteObjects',
            'DeleteObject',
            'DeleteSnapshot',
            'DeleteDBSnapshot',
            'DeleteDBClusterSnapshot',
            'DeleteDBInstance',
            'DeleteDBCluster',
            'DeleteVolume',
            'DeregisterImage',
            'DeleteBackupVault',
            'DeleteRecoveryPoint'
        )

),

final as (

    {{ sequence_matches([
        {'relation': 'shared', 'key': 'principal_arn'},
        {'relation': 'deleted', 'key': 'principal_arn'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
