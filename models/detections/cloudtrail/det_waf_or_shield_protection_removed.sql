-- WAF web ACL or Shield protection removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        (
            event_source in (
                'wafv2.amazonaws.com', 'waf-regional.amazonaws.com', 'waf.amazonaws.com'
            )
            and event_name in (
                'DeleteWebACL', 'DisassociateWebACL', 'DisassociateWebACLFromResource'
            )
        )
        or (
            event_source = 'shield.amazonaws.com'
            and event_name in (
                'DeleteProtection',
                'DeleteProtectionGroup',
                'DisableApplicationLayerAutomaticResponse'
            )
        )

)

select * from final
