-- AWS Config rules or conformance packs deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'config.amazonaws.com'
        and event_name in (
            'DeleteConfigRule',
            'DeleteConformancePack',
            'DeleteOrganizationConfigRule',
            'DeleteOrganizationConformancePack'
        )
        and not {{ acted_by_aws_service() }}

)

select * from final
