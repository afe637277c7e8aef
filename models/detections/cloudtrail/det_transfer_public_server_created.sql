-- Transfer Family server created with a public endpoint

with

events as (

    select * from {{ detection_events() }}

),

servers as (

    select
        *,
        {{ json_string('request_parameters', '$.endpointType') }} as endpoint_type,
        {{ json_value('request_parameters', '$.endpointDetails') }} as endpoint_details
    from events
    where
        event_source = 'transfer.amazonaws.com'
        and event_name = 'CreateServer'
        and {{ direct_human_call() }}

),

final as (

    select {{ star_except(['endpoint_type', 'endpoint_details']) }} from servers
    where
        -- PUBLIC, the default
        coalesce(endpoint_type, 'PUBLIC') = 'PUBLIC'
        -- a VPC endpoint with Elastic IP addresses is internet-facing too
        or (
            endpoint_type = 'VPC'
            and {{ json_value('endpoint_details', '$.addressAllocationIds') }} is not null
        )

)

select * from final
