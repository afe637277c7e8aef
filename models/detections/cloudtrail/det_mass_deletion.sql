-- Mass deletion of resources

with

events as (

    select * from {{ detection_events() }}

),

deletions as (

    select * from events
    where
        {{ regex_matches('event_name', '^(Delete|Terminate)') }}
        and error_code is null
        -- AWS's own clean-up: Auto Scaling scale-in, AWS Backup lifecycle, service-linked roles
        and not {{ acted_by_aws_service() }}

),

final as (

    {{ threshold_matches(
        'deletions',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 20)
    ) }}

)

select * from final
