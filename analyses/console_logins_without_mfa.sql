-- Successful console sign-ins without multi-factor authentication.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        recipient_account_id,
        principal_type,
        principal_name,
        source_ip_address,
        user_agent
    from events
    where
        event_name = 'ConsoleLogin'
        and json_extract_string(response_elements, '$.ConsoleLogin') = 'Success'
        and coalesce(json_extract_string(additional_event_data, '$.MFAUsed'), 'No') != 'Yes'
    order by 1

)

select * from final
