-- DynamoDB point-in-time recovery disabled, backup or table deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'dynamodb.amazonaws.com'
        and not {{ acted_by_aws_service() }}
        and (
            event_name in ('DeleteTable', 'DeleteBackup')
            or (
                event_name = 'UpdateContinuousBackups'
                and {{ json_string(
                    'request_parameters',
                    '$.pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled'
                ) }} = 'false'
            )
        )

)

select * from final
