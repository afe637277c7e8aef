-- Burst of DecodeAuthorizationMessage calls

with

events as (

    select * from {{ detection_events() }}

),

decodes as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'DecodeAuthorizationMessage'
        and not {{ acted_by_aws_service() }}

),

final as (

    {{ threshold_matches(
        'decodes',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5)
    ) }}

)

select * from final
