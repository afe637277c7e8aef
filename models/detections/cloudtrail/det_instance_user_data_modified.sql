-- Instance user data modified

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'ModifyInstanceAttribute'
        and error_code is null
        and (
            {{ json_value('request_parameters', '$.userData') }} is not null
            -- the form `--attribute userData --value ...`
            or {{ json_string('request_parameters', '$.attribute') }} = 'userData'
        )

)

select * from final
