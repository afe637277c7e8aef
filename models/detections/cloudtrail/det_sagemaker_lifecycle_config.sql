-- SageMaker notebook lifecycle script changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sagemaker.amazonaws.com'
        and error_code is null
        and (
            event_name in (
                'CreateNotebookInstanceLifecycleConfig',
                'UpdateNotebookInstanceLifecycleConfig'
            )
            -- a notebook given a lifecycle configuration (not its type, volume or role changed)
            or (
                event_name = 'UpdateNotebookInstance'
                and coalesce(
                    {{ json_string('request_parameters', '$.lifecycleConfigName') }},
                    {{ json_string('request_parameters', '$.LifecycleConfigName') }}
                ) is not null
            )
        )

)

select * from final
