-- Enumeration across many regions

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select * from events
    where
        read_only
        and principal_type not in ('AWSService', 'AWSAccount')
        -- service-linked roles (Trusted Advisor, Config, Security Hub...) read every region
        and not {{ acted_by_aws_service() }}

),

final as (

    {{ threshold_matches(
        'reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 8),
        distinct='aws_region'
    ) }}

)

select * from final
