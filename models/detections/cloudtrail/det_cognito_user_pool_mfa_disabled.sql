-- Cognito user pool MFA turned off

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cognito-idp.amazonaws.com'
        and event_name in ('SetUserPoolMfaConfig', 'UpdateUserPool')
        and coalesce(
            {{ json_string('request_parameters', '$.mfaConfiguration') }},
            {{ json_string('request_parameters', '$.MfaConfiguration') }}
        ) = 'OFF'

)

select * from final
