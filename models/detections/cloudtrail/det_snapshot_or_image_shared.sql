-- Snapshot or AMI shared outside the account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        (
            (
                event_source = 'ec2.amazonaws.com'
                and event_name in ('ModifySnapshotAttribute', 'ModifyImageAttribute')
                and {{ json_text('request_parameters') }} like '%"add"%'
            )
            or (
                event_source = 'rds.amazonaws.com'
                and event_name in (
                    'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'
                )
                and {{ json_value('request_parameters', '$.valuesToAdd') }} is not null
            )
        )

)

select * from final
