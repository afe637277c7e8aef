-- CodeBuild project made privileged or given an inline buildspec by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'codebuild.amazonaws.com'
        and {{ direct_human_call() }}
        and (
            (
                event_name in ('CreateProject', 'UpdateProject')
                and (
                    {{ json_string('request_parameters', '$.environment.privilegedMode') }}
                    = 'true'
                    -- commands written into the project, not read from the repository
                    or {{ regex_matches(
                        json_string('request_parameters', '$.source.buildspec'), 'phases\\s*:'
                    ) }}
                )
            )
            -- one build run with its own commands or a privileged container
            or (
                event_name in ('StartBuild', 'StartBuildBatch')
                and (
                    {{ json_string('request_parameters', '$.privilegedModeOverride') }} = 'true'
                    or {{ regex_matches(
                        json_string('request_parameters', '$.buildspecOverride'), 'phases\\s*:'
                    ) }}
                )
            )
        )

)

select * from final
