-- Organization trusted access or delegated administrator removed from a security service

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'organizations.amazonaws.com'
        and event_name in ('DisableAWSServiceAccess', 'DeregisterDelegatedAdministrator')
        and {{ json_string('request_parameters', '$.servicePrincipal') }} in (
            {{ sql_in_items(detection_param('security_services', [
                'guardduty.amazonaws.com',
                'malware-protection.guardduty.amazonaws.com',
                'securityhub.amazonaws.com',
                'config.amazonaws.com',
                'config-multiaccountsetup.amazonaws.com',
                'cloudtrail.amazonaws.com',
                'access-analyzer.amazonaws.com',
                'macie.amazonaws.com',
                'inspector2.amazonaws.com',
                'detective.amazonaws.com',
                'fms.amazonaws.com',
                'securitylake.amazonaws.com',
            ])) }}
        )

)

select * from final
