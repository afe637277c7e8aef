-- Glue development endpoint created or given a new SSH key

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'glue.amazonaws.com'
        and (
            event_name = 'CreateDevEndpoint'
            or (
                event_name = 'UpdateDevEndpoint'
                and (
                    {{ json_string('request_parameters', '$.publicKey') }} is not null
                    or {{ list_size(
                        json_string_list('request_parameters', '$.addPublicKeys[*]')
                    ) }} > 0
                )
            )
        )

)

select * from final
