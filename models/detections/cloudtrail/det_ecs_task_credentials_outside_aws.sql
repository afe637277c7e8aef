-- ECS task role credentials used from outside AWS

with

events as (

    select * from {{ detection_events() }}

),

final as (

    {{ workload_credentials_outside_aws(
        'events',
        issuers=['ecs-tasks.amazonaws.com'],
        runtime_user_agent='exec-env/AWS_ECS_',
    ) }}

)

select * from final
