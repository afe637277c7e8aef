-- ECR repository policy open to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ecr.amazonaws.com'
        and event_name = 'SetRepositoryPolicy'
        and {{ regex_matches(
            regex_replace_all(json_string('request_parameters', '$.policyText'), '\\s', ''),
            '"Principal":(\\{"AWS":)?\\[?"\\*"'
        ) }}

)

select * from final
