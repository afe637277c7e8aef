-- Lambda function credentials used from outside AWS

with

events as (

    select * from {{ detection_events() }}

),

final as (

    {{ workload_credentials_outside_aws(
        'events',
        issuers=['lambda.amazonaws.com', 'edgelambda.amazonaws.com'],
        runtime_user_agent='exec-env/AWS_Lambda',
        issuer_type='AWS::Lambda::Function',
    ) }}

)

select * from final
