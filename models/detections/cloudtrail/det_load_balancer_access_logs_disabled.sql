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
        and {{ regex_matches(
            json_text('request_parameters'),
            '"key"\\s*:\\s*"access_logs\\.s3\\.enabled"\\s*,\\s*"value"\\s*:\\s*"false"'
        ) }}

)

select * from final
