-- IAM Roles Anywhere trust anchor created

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'rolesanywhere.amazonaws.com'
        and event_name in ('CreateTrustAnchor', 'UpdateTrustAnchor', 'CreateProfile')
        and error_code is null

)

select * from final
