-- Secrets Manager secret deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'secretsmanager.amazonaws.com'
        and event_name = 'DeleteSecret'

)

select * from final
