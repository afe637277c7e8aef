-- CloudWatch Logs forwarding, metric filters or retention tampered

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'logs.amazonaws.com'
        and not {{ acted_by_aws_service() }}
        and (
            event_name in ('DeleteSubscriptionFilter', 'DeleteMetricFilter')
            or (
                event_name = 'PutRetentionPolicy'
                and cast(
                    {{ json_string('request_parameters', '$.retentionInDays') }} as integer
                ) <= 7
            )
        )

)

select * from final
