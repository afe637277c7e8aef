-- Bedrock invocation logging or guardrail removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'bedrock.amazonaws.com'
        and event_name in ('DeleteModelInvocationLoggingConfiguration', 'DeleteGuardrail')

)

select * from final
