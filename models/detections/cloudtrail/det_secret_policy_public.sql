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
        and {{ regex_matches(
            regex_replace_all(json_string('request_parameters', '$.resourcePolicy'), '\\s', ''),
            '"Principal":(\\{"AWS":)?\\[?"\\*"'
        ) }}

)

select * from final
