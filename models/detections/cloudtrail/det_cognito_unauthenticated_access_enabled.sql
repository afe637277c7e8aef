-- Cognito identity pool allows unauthenticated identities

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'cognito-identity.amazonaws.com'
        and event_name in ('CreateIdentityPool', 'UpdateIdentityPool')
        and {{ json_string('request_parameters', '$.allowUnauthenticatedIdentities') }} = 'true'

)

select * from final
