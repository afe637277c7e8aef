-- Sudden spike of server errors (5xx) on one host

with

requests as (

    select * from {{ web_detection_events() }}

),

server_errors as (

    select * from requests
    where status between 500 and 599

),

final as (

    {{ threshold_matches(
        'server_errors',
        ['event_source'],
        minutes=detection_param('minutes', 5),
        at_least=detection_param('at_least', 20)
    ) }}

)

select * from final
