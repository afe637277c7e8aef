-- Bulk download of S3 objects

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select
        *,
        {{ json_string('request_parameters', '$.bucketName') }}
        || '/' || {{ json_string('request_parameters', '$.key') }} as object_ref
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name = 'GetObject'
        and error_code is null
        and not {{ acted_by_aws_service() }}

),

final as (

    {{ threshold_matches(
        'reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 200),
        distinct='object_ref'
    ) }}

)

select {{ star_except(['object_ref']) }} from final
