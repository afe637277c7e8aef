-- Secrets Manager resource policy open to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'secretsmanager.amazonaws.com'
        and event_name = 'PutResourcePolicy'
        and {{ policy_allows_anyone(json_string('request_parameters', '$.resourcePolicy')) }}

)

select * from final
