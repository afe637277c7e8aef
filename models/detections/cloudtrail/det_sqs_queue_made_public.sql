-- SQS queue policy open to everyone

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        nullif({{ json_string('request_parameters', '$.attributes.Policy') }}, '') as policy_text
    from events
    where
        -- a policy the service rejected grants nothing
        error_code is null
        and event_source = 'sqs.amazonaws.com'
        and event_name in ('SetQueueAttributes', 'CreateQueue')

),

final as (

    -- an Allow to anyone with no condition confining who (macros/policies.sql)
    select {{ star_except(['policy_text']) }} from policies
    where {{ policy_allows_anyone('policy_text') }}

)

select * from final
