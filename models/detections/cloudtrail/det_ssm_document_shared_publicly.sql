-- SSM document shared publicly or with another account

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ssm.amazonaws.com'
        and event_name = 'ModifyDocumentPermission'
        and {{ list_size(json_string_list('request_parameters', '$.accountIdsToAdd[*]')) }} > 0

)

select * from final
