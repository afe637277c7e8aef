-- Root user password changed or recovered

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'signin.amazonaws.com'
        and (
            event_name in ('PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
            or (event_name = 'PasswordUpdated' and principal_type = 'Root')
        )

)

select * from final
