-- Route 53 Resolver DNS Firewall removed or set to fail open

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'route53resolver.amazonaws.com'
        and (
            event_name in (
                'DeleteFirewallRule', 'DeleteFirewallRuleGroup', 'DisassociateFirewallRuleGroup'
            )
            -- queries pass unfiltered whenever the firewall cannot answer
            or (
                event_name = 'UpdateFirewallConfig'
                and {{ regex_matches(
                    json_text('request_parameters'), '(?i)"firewallFailOpen"\\s*:\\s*"ENABLED"'
                ) }}
            )
        )

)

select * from final
