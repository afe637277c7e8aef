-- Data shared or copied out, then deleted

with

events as (

    select * from {{ detection_events() }}

),

shared as (

    -- copies out of reach: replication, exports, a DataSync task, and shares that add someone
    -- (removing a share, then deleting, is routine cleanup)
    select * from events
    where
        error_code is null
        and (
            event_name in ('PutBucketReplication', 'CreateExportTask', 'StartExportTask')
            or (event_source = 'datasync.amazonaws.com' and event_name = 'CreateTask')
            or (
                event_name in ('ModifySnapshotAttribute', 'ModifyImageAttribute')
                and coalesce(
                    {{ json_value('request_parameters', '$.createVolumePermission.add') }},
                    {{ json_value('request_parameters', '$.launchPermission.add') }}
                ) is not null
            )
            or (
                event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
                and {{ json_value('request_parameters', '$.valuesToAdd') }} is not null
            )
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
