-- IAM Identity Center account assignment created

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sso.amazonaws.com'
        and event_name = 'CreateAccountAssignment'

)

select * from final
