-- Security group opened to the internet

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'AuthorizeSecurityGroupIngress'
        and error_code is null
        -- any /0 network is every address, whatever address is written before the slash
        and {{ regex_matches(
            json_text('request_parameters'), '"cidrIp(v6)?": ?"[0-9a-fA-F.:]*/0"'
        ) }}

)

select * from final
