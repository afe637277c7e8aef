-- S3 object versions listed, then deleted in bulk

with

events as (

    select * from {{ detection_events() }}

),

listed as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'ListObjectVersions'
        and error_code is null

),

deleted as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and error_code is null
        and (
            event_name = 'DeleteObjects'
            or (
                event_name = 'DeleteObject'
                and {{ json_string('request_parameters', '$.versionId') }} is not null
            )
        )

),

final as (

    {%- set bucket = "{step}.principal_arn || '|' || "
        ~ json_string('{step}.request_parameters', '$.bucketName') %}
    {{ sequence_matches([
        {'relation': 'listed', 'key': bucket},
        {'relation': 'deleted', 'key': bucket},
    ], within_minutes=detection_param('within_minutes', 30)) }}

)

select * from final
