-- Console sign-in token requested for a federation token

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'signin.amazonaws.com'
        and event_name = 'GetSigninToken'
        and principal_type = 'FederatedUser'

)

select * from final
