-- Console sign-in without MFA

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_name = 'ConsoleLogin'
        and principal_type in ('IAMUser', 'Root')
        and {{ json_string('additional_event_data', '$.MFAUsed') }} = 'No'
        and coalesce(
            {{ json_string('response_elements', '$.ConsoleLogin') }}, 'Success'
        ) = 'Success'

)

select * from final
