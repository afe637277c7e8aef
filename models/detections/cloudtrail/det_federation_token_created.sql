-- Federation token obtained by an IAM user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'GetFederationToken'
        and error_code is null

)

select * from final
