{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/cloudtrail',
        watermark='landed_at',
        unique_key='event_id',
    )
}}

with

events as (

    select * from {{ ref('stg_cloudtrail__events') }}
    where {{ lake_partition_filter() }}

),

ranked as (

    select
        *,
        -- The same record can be delivered twice (retries, overlapping trails, reloads):
        -- keep the first landing of each eventID.
        row_number() over (
            partition by event_id
            order by landed_at, source_object
        ) as delivery_rank
    from events

),

final as (

    select
        event_id,
        event_time,
        event_date,
        event_version,
        event_source,
        event_name,
        event_type,
        event_category,
        aws_region,
        recipient_account_id,
        source_ip_address,
        user_agent,
        error_code,
        error_message,
        read_only,
        management_event,
        request_id,
        shared_event_id,
        vpc_endpoint_id,
        user_identity,
        principal_type,
        principal_arn,
        principal_id,
        principal_name,
        principal_session_name,
        account_id,
        access_key_id,
        invoked_by,
        session_mfa,
        session_issuer_arn,
        request_parameters,
        response_elements,
        additional_event_data,
        resources,
        service_event_details,
        tls_version,
        {{ extract_ips(
            [
                json_text('user_identity'),
                json_text('request_parameters'),
                json_text('response_elements'),
                json_text('additional_event_data'),
                json_text('resources'),
                json_text('service_event_details'),
                'error_message',
            ],
            'source_ip_address',
        ) }} as ips,
        source_object,
        landed_at,
        raw
    from ranked
    where delivery_rank = 1

)

select * from final
