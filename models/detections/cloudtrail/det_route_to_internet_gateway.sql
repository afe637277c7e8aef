-- Default route to an internet gateway

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('CreateRoute', 'ReplaceRoute')
        and error_code is null
        and {{ json_string('request_parameters', '$.gatewayId') }} like 'igw-%'
        and coalesce(
            {{ json_string('request_parameters', '$.destinationCidrBlock') }},
            {{ json_string('request_parameters', '$.destinationIpv6CidrBlock') }}
        ) in ('0.0.0.0/0', '::/0')

)

select * from final
