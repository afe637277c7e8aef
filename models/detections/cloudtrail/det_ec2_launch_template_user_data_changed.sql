-- EC2 launch template given user data by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('CreateLaunchTemplate', 'CreateLaunchTemplateVersion')
        and {{ direct_human_call() }}
        -- CloudTrail wraps these requests (CreateLaunchTemplateVersionRequest.LaunchTemplateData)
        -- and writes the script itself as <sensitiveDataRemoved>: its presence is the signal
        and coalesce(
            {{ json_value(
                'request_parameters', '$.CreateLaunchTemplateVersionRequest.LaunchTemplateData.UserData'
            ) }},
            {{ json_value(
                'request_parameters', '$.CreateLaunchTemplateRequest.LaunchTemplateData.UserData'
            ) }}
        ) is not null

)

select * from final
