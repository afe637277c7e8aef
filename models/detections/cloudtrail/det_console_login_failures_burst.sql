-- Burst of failed console sign-ins

with

events as (

    select * from {{ detection_events() }}

),

failures as (

    select * from events
    where
        event_name = 'ConsoleLogin'
        and {{ json_string('response_elements', '$.ConsoleLogin') }} = 'Failure'

),

final as (

    {{ threshold_matches(
        'failures',
        ['source_ip_address'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5)
    ) }}

)

select * from final
