-- Burst of IAM enumeration calls

with

events as (

    select * from {{ detection_events() }}

),

iam_reads as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and {{ regex_matches('event_name', '^(List|Get)') }}
        and not {{ acted_by_aws_service() }}
        and not coalesce(is_automation, false)
        -- the IAM console lists and reads a lot on every page a person opens
        and lower(coalesce(user_agent, '')) not like '%console%'
        and lower(coalesce(user_agent, '')) not like 'aws internal%'

),

final as (

    {{ threshold_matches(
        'iam_reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 15),
        distinct='event_name'
    ) }}

)

select * from final
