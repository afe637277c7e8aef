-- SSM Command or Automation document created or changed by a person

with

events as (

    select * from {{ detection_events() }}

),

documents as (

    select
        *,
        coalesce(
            {{ json_string('request_parameters', '$.documentType') }},
            {{ json_string('response_elements', '$.documentDescription.documentType') }},
            -- CreateDocument makes a Command document when the type is left out
            case when event_name = 'CreateDocument' then 'Command' end
        ) as document_type
    from events
    where
        event_source = 'ssm.amazonaws.com'
        and event_name in ('CreateDocument', 'UpdateDocument')
        -- people, not CloudFormation or Terraform deployments, nor Quick Setup or other services
        and {{ direct_human_call() }}

),

final as (

    select {{ star_except(['document_type']) }}
    from documents
    where document_type in ('Command', 'Automation')

)

select * from final
