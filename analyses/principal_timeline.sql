-- Incident response: everything one principal did, in order.
-- requires: --var principal=<user or role name, or ARN>
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        recipient_account_id,
        aws_region,
        event_source,
        event_name,
        resource_name,
        source_ip_address,
        user_agent,
        error_code,
        event_id
    from events
    where
        principal_name = {{ sql_string(var("principal", "")) }}
        or principal_arn = {{ sql_string(var("principal", "")) }}
    order by 1, 10

)

select * from final
