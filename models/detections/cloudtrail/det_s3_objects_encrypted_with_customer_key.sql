-- S3 objects rewritten with a customer-provided key (SSE-C)

with

events as (

    select * from {{ detection_events() }}

),

customer_key_writes as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('PutObject', 'CopyObject', 'CreateMultipartUpload')
        and error_code is null
        and (
            {{ json_string('additional_event_data', '$.SSEApplied') }} = 'SSE_C'
            or {{ json_text('request_parameters') }}
            like '%"x-amz-server-side-encryption-customer-algorithm"%'
        )

),

final as (

    {{ threshold_matches(
        'customer_key_writes',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct=json_string('request_parameters', '$.key')
    ) }}

)

select * from final
