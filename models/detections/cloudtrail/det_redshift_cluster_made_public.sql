-- Redshift cluster made publicly accessible

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'redshift.amazonaws.com'
        and event_name in ('ModifyCluster', 'CreateCluster', 'RestoreFromClusterSnapshot')
        and {{ json_string('request_parameters', '$.publiclyAccessible') }} = 'true'

)

select * from final
