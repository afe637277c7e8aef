-- Load balancer access logging disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'elasticloadbalancing.amazonaws.com'
        and event_name = 'ModifyLoadBalancerAttributes'
        -- application and network load balancers, then classic ones
        and {{ regex_matches(
            'lower(' ~ json_text('request_parameters') ~ ')',
            '"key"\\s*:\\s*"access_logs\\.s3\\.enabled"\\s*,\\s*"value"\\s*:\\s*"false"'
            ~ '|"accesslog"\\s*:\\s*[{][^}]*"enabled"\\s*:\\s*false'
        ) }}

)

select * from final
