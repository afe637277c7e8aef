-- Shell opened in an ECS container with ECS Exec

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ecs.amazonaws.com'
        and event_name = 'ExecuteCommand'
        and error_code is null
        and not {{ acted_by_aws_service() }}

)

select * from final
