-- Burst of client errors (4xx) from one client: scanning, brute force, broken automation

with

requests as (

    select * from {{ web_detection_events() }}

),

client_errors as (

    select * from requests
    where status between 400 and 499

),

final as (

    {{ threshold_matches(
        'client_errors',
        ['client_ip'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 50)
    ) }}

)

select * from final
