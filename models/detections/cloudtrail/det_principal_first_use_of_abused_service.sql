-- Principal's first use of a service attackers abuse

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        {{ direct_human_call() }}
        and event_source in ({{ sql_in_items(detection_param('services', [
            'bedrock.amazonaws.com',
            'sagemaker.amazonaws.com',
            'ses.amazonaws.com',
            'lightsail.amazonaws.com',
            'datasync.amazonaws.com',
            'transfer.amazonaws.com',
            'gamelift.amazonaws.com',
        ])) }})

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_service',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
