-- GuardDuty protection features disabled while the detector stays on

with

events as (

    select * from {{ detection_events() }}

),

changes as (

    select * from events
    where
        event_source = 'guardduty.amazonaws.com'
        and event_name in (
            'UpdateDetector',
            'UpdateMemberDetectors',
            'UpdateOrganizationConfiguration',
            'UpdateMalwareScanSettings'
        )
        -- a detector turned off altogether is aws-guardduty-disabled
        and coalesce({{ json_string('request_parameters', '$.enable') }}, 'true') != 'false'

),

final as (

    select * from changes
    where
        -- a feature or its additional configuration (runtime agent management) turned off
        {{ regex_matches(json_text('request_parameters'), '"status"\\s*:\\s*"DISABLED"') }}
        -- legacy data sources: S3 logs, EKS audit logs, malware scans of EBS volumes
        or {{ regex_matches(
            json_text('request_parameters'), '"(enable|ebsVolumes)"\\s*:\\s*"?false'
        ) }}
        -- the organization no longer turns protection on for its accounts
        or {{ regex_matches(
            json_text('request_parameters'),
            '"autoEnable"\\s*:\\s*("?false|"NONE")|"autoEnableOrganizationMembers"\\s*:\\s*"NONE"'
        ) }}
        -- malware scans skip resources carrying chosen tags
        or (
            event_name = 'UpdateMalwareScanSettings'
            and {{ regex_matches(
                json_text('request_parameters'), '"exclude"\\s*:\\s*\\{\\s*"'
            ) }}
        )

)

select * from final
