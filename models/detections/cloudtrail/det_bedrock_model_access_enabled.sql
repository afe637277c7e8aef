-- Bedrock model access enabled or models invoked

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'bedrock.amazonaws.com'
        and error_code is null
        and event_name in (
            'PutFoundationModelEntitlement',
            'CreateFoundationModelAgreement',
            'PutUseCaseForModelAccess'
        )

)

select * from final
