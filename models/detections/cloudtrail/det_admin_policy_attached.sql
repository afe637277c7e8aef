-- Administrator policy attached

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
        and {{ json_string('request_parameters', '$.policyArn') }}
        like '%:policy/AdministratorAccess'

)

select * from final
