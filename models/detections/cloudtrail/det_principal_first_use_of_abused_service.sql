-- Principal's first use of a service attackers abuse

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and principal_type in ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
        and invoked_by is null
        and not coalesce(is_automation, false)
        and event_source in (
            'bedrock.amazonaws.com',
            'sagemaker.amazonaws.com',
            'ses.amazonaws.com',
            'lightsail.amazonaws.com',
            'datasync.amazonaws.com',
            'transfer.amazonaws.com',
            'gamelift.amazonaws.com'
        )

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_service',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
