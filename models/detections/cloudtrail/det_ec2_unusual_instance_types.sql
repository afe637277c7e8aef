-- GPU or accelerated instances launched

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'RunInstances'
        -- allowed or denied: a denied attempt is as telling
        and {{ regex_matches(
            json_string('request_parameters', '$.instanceType'),
            '^(p[0-9]|gr?[0-9]|inf[0-9]|trn[0-9]|dl[0-9])'
        ) }}

)

select * from final
