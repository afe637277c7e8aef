-- EC2 termination protection disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'ModifyInstanceAttribute'
        and (
            {{ json_string('request_parameters', '$.disableApiTermination.value') }} = 'false'
            -- the form `--attribute disableApiTermination --value false`
            or (
                {{ json_string('request_parameters', '$.attribute') }} = 'disableApiTermination'
                and {{ json_string('request_parameters', '$.value') }} = 'false'
            )
        )

)

select * from final
