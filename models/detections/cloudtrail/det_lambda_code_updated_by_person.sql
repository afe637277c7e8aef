-- Lambda function code replaced by a person

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and event_name like 'UpdateFunctionCode%'
        -- by someone's own credentials, not a service, a pipeline or infrastructure as code
        and {{ direct_human_call() }}

)

select * from final
