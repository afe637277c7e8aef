-- Mass deletion of resources
-- meta (id, severity, ATT&CK, dedup) in _cloudtrail__detections.yml

with

events as (

    select * from {{ detection_events() }}

),

deletions as (

    select * from events
    where
        {{ regex_matches('event_name', '^(Delete|Terminate)') }}
        and error_code is null

),

final as (

    {{ threshold_matches('deletions', ['principal_arn'], minutes=10, at_least=20) }}

)

select * from final
