-- EBS or RDS snapshots deleted in bulk

with

events as (

    select * from {{ detection_events() }}

),

deletions as (

    select * from events
    where
        error_code is null
        and not {{ acted_by_aws_service() }}
        and (
            (event_source = 'ec2.amazonaws.com' and event_name = 'DeleteSnapshot')
            or (
                event_source = 'rds.amazonaws.com'
                and event_name in ('DeleteDBSnapshot', 'DeleteDBClusterSnapshot')
            )
        )

),

final as (

    {{ threshold_matches(
        'deletions',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5)
    ) }}

)

select * from final
