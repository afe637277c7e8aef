-- SSM Session Manager logging turned off

with

events as (

    select * from {{ detection_events() }}

),

preferences as (

    select
        *,
        {{ json_string('request_parameters', '$.content') }} as document_content
    from events
    where
        event_source = 'ssm.amazonaws.com'
        and event_name in ('CreateDocument', 'UpdateDocument')
        and (
            -- the account's Session Manager preferences, in each region
            {{ json_string('request_parameters', '$.name') }} = 'SSM-SessionManagerRunShell'
            -- or a session document of one's own (start-session --document-name), shell or
            -- interactive commands; an update carries the content only
            or {{ json_string('request_parameters', '$.documentType') }} = 'Session'
            or {{ regex_matches(
                "coalesce(" ~ json_string('request_parameters', '$.content') ~ ", '')",
                'sessionType"?\\s*:\\s*"?(Standard_Stream|InteractiveCommands)'
            ) }}
        )

),

final as (

    select {{ star_except(['document_content']) }}
    from preferences
    where
        document_content is not null
        -- neither an S3 bucket nor a log group left to write sessions to (JSON or YAML)
        and not {{ regex_matches(
            'document_content',
            '(s3BucketName|cloudWatchLogGroupName)"?\\s*:\\s*\\W?[A-Za-z0-9/_.-]'
        ) }}

)

select * from final
