-- Network ACL rule allowing the internet

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('CreateNetworkAclEntry', 'ReplaceNetworkAclEntry')
        and error_code is null
        and {{ json_string('request_parameters', '$.ruleAction') }} = 'allow'
        and coalesce({{ json_string('request_parameters', '$.egress') }}, 'false') = 'false'
        and coalesce(
            {{ json_string('request_parameters', '$.cidrBlock') }},
            {{ json_string('request_parameters', '$.ipv6CidrBlock') }}
        ) in ('0.0.0.0/0', '::/0')

)

select * from final
