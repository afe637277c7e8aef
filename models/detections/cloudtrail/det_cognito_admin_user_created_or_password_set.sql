-- Cognito user created or password set by an administrator

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cognito-idp.amazonaws.com'
        and event_name in ('AdminCreateUser', 'AdminSetUserPassword', 'AdminConfirmSignUp')

)

select * from final
