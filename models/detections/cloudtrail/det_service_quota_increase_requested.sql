-- EC2 service quota increase requested

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'servicequotas.amazonaws.com'
        and event_name = 'RequestServiceQuotaIncrease'
        and error_code is null
        -- an Organizations quota request template applied to a new account is not a person
        and not {{ acted_by_aws_service() }}
        and coalesce(
            {{ json_string('request_parameters', '$.serviceCode') }},
            {{ json_string('request_parameters', '$.ServiceCode') }}
        ) in ({{ sql_in_items(detection_param('service_codes', ['ec2'])) }})

)

select * from final
