-- KMS key disabled or scheduled for deletion

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'kms.amazonaws.com'
        and event_name in ('ScheduleKeyDeletion', 'DisableKey')

)

select * from final
