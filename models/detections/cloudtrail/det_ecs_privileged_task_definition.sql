-- ECS task definition with a privileged container or host access

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ecs.amazonaws.com'
        and event_name = 'RegisterTaskDefinition'
        and {{ regex_matches(
            json_text('request_parameters'),
            '"privileged"\\s*:\\s*true|"pidMode"\\s*:\\s*"host"|"sourcePath"\\s*:\\s*"/"'
        ) }}

)

select * from final
