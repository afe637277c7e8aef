-- VPC peering requested with another account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'CreateVpcPeeringConnection'
        and {{ json_string('request_parameters', '$.peerOwnerId') }} is not null
        and {{ json_string('request_parameters', '$.peerOwnerId') }} != recipient_account_id

)

select * from final
