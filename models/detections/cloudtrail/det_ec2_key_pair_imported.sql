-- EC2 key pair imported or created by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('ImportKeyPair', 'CreateKeyPair')
        and {{ direct_human_call() }}

)

select * from final
