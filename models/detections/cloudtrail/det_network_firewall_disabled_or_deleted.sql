-- AWS Network Firewall disabled, deleted or unlogged

with

events as (

    select * from {{ detection_events() }}

),

changes as (

    select * from events
    where event_source = 'network-firewall.amazonaws.com'

),

final as (

    select * from changes
    where
        event_name in (
            'DeleteFirewall', 'DeleteFirewallPolicy', 'DeleteRuleGroup', 'DisassociateSubnets'
        )
        or (
            event_name = 'UpdateFirewallDeleteProtection'
            and {{ regex_matches(
                json_text('request_parameters'), '(?i)"deleteProtection"\\s*:\\s*"?false'
            ) }}
        )
        -- logging left without any destination (each call may change one destination)
        or (
            event_name = 'UpdateLoggingConfiguration'
            and not {{ regex_matches(
                json_text('request_parameters'), '(?i)"logDestinationConfigs"\\s*:\\s*\\[\\s*\\{'
            ) }}
        )

)

select * from final
