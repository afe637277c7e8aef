-- Inactive IAM access key reactivated

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'UpdateAccessKey'
        and {{ json_string('request_parameters', '$.status') }} = 'Active'

)

select * from final
