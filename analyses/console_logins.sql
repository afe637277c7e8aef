-- Console sign-ins by principal: successes with and without MFA, and failures.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

logins as (

    select
        principal_name,
        principal_type,
        json_extract_string(response_elements, '$.ConsoleLogin') = 'Success' as is_success,
        coalesce(json_extract_string(additional_event_data, '$.MFAUsed'), 'No') = 'Yes'
            as is_mfa
    from events
    where event_name = 'ConsoleLogin'

),

final as (

    select
        coalesce(principal_name, 'unknown') as principal_name,
        principal_type,
        count(*) filter (where is_success and is_mfa) as with_mfa,
        count(*) filter (where is_success and not is_mfa) as without_mfa,
        count(*) filter (where not is_success) as failed
    from logins
    group by 1, 2
    order by 4 desc, 5 desc, 1, 2

)

select * from final
