-- Principal's first change to identity or security services

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        {{ direct_human_call() }}
        and read_only = false
        and event_source in (
            'iam.amazonaws.com',
            'organizations.amazonaws.com',
            'kms.amazonaws.com',
            'cloudtrail.amazonaws.com',
            'guardduty.amazonaws.com',
            'config.amazonaws.com',
            'securityhub.amazonaws.com',
            'sso.amazonaws.com',
            'identitystore.amazonaws.com',
            'access-analyzer.amazonaws.com'
        )

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_api_call',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
