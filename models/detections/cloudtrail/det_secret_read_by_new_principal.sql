-- Secret read by a principal for the first time

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and event_source = 'secretsmanager.amazonaws.com'
        and event_name = 'GetSecretValue'
        and principal_type != 'AWSService'
        and invoked_by is null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'secret_reader',
        min_history_days=detection_param('min_history_days', 3)
    ) }}

)

select * from final
