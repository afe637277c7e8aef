-- EBS snapshot read through the EBS direct APIs

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ebs.amazonaws.com'
        and event_name in ('ListSnapshotBlocks', 'ListChangedBlocks', 'GetSnapshotBlock')
        and not {{ acted_by_aws_service() }}
        and not coalesce(is_automation, false)

)

select * from final
