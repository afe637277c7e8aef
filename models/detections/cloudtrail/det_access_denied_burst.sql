-- Burst of AccessDenied errors

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

    {{ threshold_matches(
        'denied',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 20)
    ) }}

)

select * from final
