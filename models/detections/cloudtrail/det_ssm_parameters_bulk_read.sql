-- Bulk read of SSM parameters

{%- set names = json_string_list('request_parameters', '$.names[*]') %}

with

events as (

    select * from {{ detection_events() }}

),

reads as (

    select
        *,
        -- the parameters (or paths) one call read; AWS's public parameters (AMI ids,
        -- service endpoints under /aws/service/) are not secrets
        {{ list_filter(
            'case when ' ~ list_size(names) ~ ' > 0 then ' ~ names ~ ' else '
            ~ list_of([
                'coalesce(' ~ json_string('request_parameters', '$.name') ~ ', '
                ~ json_string('request_parameters', '$.path') ~ ')'
            ]) ~ ' end',
            'parameter', "parameter not like '/aws/service/%'"
        ) }} as parameters_read
    from events
    where
        event_source = 'ssm.amazonaws.com'
        and event_name in ('GetParameter', 'GetParameters', 'GetParametersByPath')
        and error_code is null

),

final as (

    {{ threshold_matches(
        'reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 10),
        distinct_items='parameters_read'
    ) }}

)

select {{ star_except(['parameters_read']) }} from final
