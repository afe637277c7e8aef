-- GuardDuty trusted IP list created or changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and error_code is null
        -- filters that archive findings: aws-guardduty-findings-auto-archived
        and event_name in ('CreateIPSet', 'UpdateIPSet')

)

select * from final
