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
        -- a new cluster's endpoint is public unless the request says otherwise
        and coalesce(
            {{ json_string('request_parameters', '$.resourcesVpcConfig.endpointPublicAccess') }},
            case when event_name = 'CreateCluster' then 'true' end
        ) = 'true'
        -- no CIDR list means 0.0.0.0/0
        and coalesce(
            {{ json_string('request_parameters', '$.resourcesVpcConfig.publicAccessCidrs') }},
            '["0.0.0.0/0"]'
        ) like '%0.0.0.0/0%'

)

select * from final
