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
        and event_name in (
            'CreateNotebookInstanceLifecycleConfig',
            'UpdateNotebookInstanceLifecycleConfig',
            'UpdateNotebookInstance'
        )

)

select * from final
