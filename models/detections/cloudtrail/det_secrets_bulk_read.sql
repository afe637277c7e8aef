-- Bulk read of Secrets Manager secrets
-- meta (id, severity, ATT&CK, dedup) in _cloudtrail__detections.yml

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select * from events
    where
        event_source = 'secretsmanager.amazonaws.com'
        and event_name in ('GetSecretValue', 'BatchGetSecretValue')
        and error_code is null

),

final as (

    {{ threshold_matches('reads', ['principal_arn'], minutes=10, at_least=5) }}

)

select * from final
