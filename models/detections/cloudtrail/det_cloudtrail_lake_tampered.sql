-- CloudTrail Lake event data store or channel deleted, stopped or shortened

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cloudtrail.amazonaws.com'
        and (
            event_name in (
                'DeleteEventDataStore', 'StopEventDataStoreIngestion', 'DeleteChannel'
            )
            or (
                event_name = 'UpdateEventDataStore'
                and (
                    {{ number_compare(
                        json_string('request_parameters', '$.retentionPeriod'),
                        '<',
                        detection_param('min_retention_days', 365),
                    ) }}
                    or {{ json_string(
                        'request_parameters', '$.terminationProtectionEnabled'
                    ) }} = 'false'
                )
            )
        )

)

select * from final
