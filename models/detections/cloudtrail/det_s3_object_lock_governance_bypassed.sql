-- S3 Object Lock governance retention bypassed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('DeleteObject', 'DeleteObjects', 'PutObjectRetention')
        and {{ regex_matches(
            'lower(' ~ json_text('request_parameters') ~ ')',
            '"x-amz-bypass-governance-retention"\\s*:\\s*"?true'
        ) }}

)

select * from final
