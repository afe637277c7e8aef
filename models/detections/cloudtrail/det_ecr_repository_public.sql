-- ECR repository policy open to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ecr.amazonaws.com'
        and event_name = 'SetRepositoryPolicy'
        and {{ policy_allows_anyone(json_string('request_parameters', '$.policyText')) }}

)

select * from final
