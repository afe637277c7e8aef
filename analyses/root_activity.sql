-- Everything the root user did: root should be locked away, so every row deserves a look.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        recipient_account_id,
        event_source,
        event_name,
        source_ip_address,
        user_agent,
        error_code
    from events
    where principal_type = 'Root'
    order by 1

)

select * from final
