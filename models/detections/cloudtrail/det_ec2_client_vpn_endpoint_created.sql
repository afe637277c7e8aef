-- EC2 Client VPN endpoint created or opened to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and error_code is null
        and (
            event_name = 'CreateClientVpnEndpoint'
            or (
                event_name = 'AuthorizeClientVpnIngress'
                -- the request's casing and wrapper vary between EC2 APIs: searched as text
                and (
                    {{ regex_matches(
                        json_text('request_parameters'),
                        '(?i)"targetNetworkCidr"\\s*:\\s*"(0\\.0\\.0\\.0/0|::/0)"'
                    ) }}
                    or {{ regex_matches(
                        json_text('request_parameters'),
                        '(?i)"authorizeAllGroups"\\s*:\\s*"?true'
                    ) }}
                )
            )
        )

)

select * from final
