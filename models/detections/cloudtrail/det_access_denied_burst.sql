-- Burst of AccessDenied errors
-- meta (id, severity, ATT&CK, dedup) in _cloudtrail__detections.yml

with

events as (

    select * from {{ detection_events() }}

),

denied as (

    select * from events
    where
        error_code like '%AccessDenied%'
        or error_code like '%UnauthorizedOperation%'
        or error_code = 'AuthorizationError'

),

final as (

    {{ threshold_matches('denied', ['principal_arn'], minutes=10, at_least=20) }}

)

select * from final
