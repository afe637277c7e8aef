-- Privileged root session taken on a member account (AssumeRoot)

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'AssumeRoot'

)

select * from final
