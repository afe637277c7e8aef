-- RDS database deleted without a final snapshot

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'rds.amazonaws.com'
        and event_name in ('DeleteDBInstance', 'DeleteDBCluster')
        and {{ json_string('request_parameters', '$.skipFinalSnapshot') }} = 'true'
        and not {{ acted_by_aws_service() }}

)

select * from final
