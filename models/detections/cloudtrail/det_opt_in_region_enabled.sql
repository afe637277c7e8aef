-- Opt-in region enabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'account.amazonaws.com'
        and event_name = 'EnableRegion'

)

select * from final
