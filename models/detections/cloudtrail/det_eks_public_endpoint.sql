-- EKS API endpoint opened to the internet

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'eks.amazonaws.com'
        and event_name in ('CreateCluster', 'UpdateClusterConfig')
        and error_code is null
        and {{ json_string('request_parameters', '$.resourcesVpcConfig.endpointPublicAccess') }}
        = 'true'
        -- no CIDR list means 0.0.0.0/0
        and coalesce(
            {{ json_string('request_parameters', '$.resourcesVpcConfig.publicAccessCidrs') }},
            '["0.0.0.0/0"]'
        ) like '%0.0.0.0/0%'

)

select * from final
