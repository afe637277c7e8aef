-- Firehose stream delivering to an HTTP endpoint

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'firehose.amazonaws.com'
        and event_name in ('CreateDeliveryStream', 'UpdateDestination')
        and error_code is null
        -- an HTTP endpoint destination, set at creation or swapped in later
        and {{ regex_matches(
            json_text('request_parameters'),
            '(?i)"httpEndpointDestination(Configuration|Update)"\\s*:\\s*[{]'
        ) }}

)

select * from final
