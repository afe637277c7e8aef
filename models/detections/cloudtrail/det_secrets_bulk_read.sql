-- Bulk read of Secrets Manager secrets

{%- set batch = json_string_list('request_parameters', '$.secretIdList[*]') %}

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select
        *,
        -- the secrets one call read: a batch by filter reads an unknown number, counted once
        case
            when {{ list_size(batch) }} > 0 then {{ batch }}
            else {{ list_of([
                'coalesce(' ~ json_string('request_parameters', '$.secretId') ~ ', event_id)'
            ]) }}
        end as secrets_read
    from events
    where
        event_source = 'secretsmanager.amazonaws.com'
        and event_name in ('GetSecretValue', 'BatchGetSecretValue')
        and error_code is null

),

final as (

    {{ threshold_matches(
        'reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 5),
        distinct_items='secrets_read'
    ) }}

)

select {{ star_except(['secrets_read']) }} from final
