-- RDS database made publicly accessible

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'rds.amazonaws.com'
        and event_name in (
            'ModifyDBInstance',
            'CreateDBInstance',
            'RestoreDBInstanceFromDBSnapshot',
            'RestoreDBInstanceToPointInTime',
            'RestoreDBInstanceFromS3'
        )
        and {{ json_string('request_parameters', '$.publiclyAccessible') }} = 'true'

)

select * from final
