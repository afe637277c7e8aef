-- Account password policy changed or deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('UpdateAccountPasswordPolicy', 'DeleteAccountPasswordPolicy')
        and error_code is null

)

select * from final
