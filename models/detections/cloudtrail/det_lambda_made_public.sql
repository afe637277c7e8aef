-- Lambda function opened to everyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'lambda.amazonaws.com'
        and (
            (
                event_name like 'AddPermission%'
                and {{ json_string('request_parameters', '$.principal') }} = '*'
                -- nothing confining who: an organization, a source account, or a source ARN
                -- in one account or of one bucket (only a service acting for that resource
                -- carries one); a foreign source is aws-lambda-permission-to-other-account
                and {{ json_string('request_parameters', '$.principalOrgID') }} is null
                and {{ json_string('request_parameters', '$.sourceAccount') }} is null
                and coalesce(
                    not {{ regex_matches(
                        json_string('request_parameters', '$.sourceArn'),
                        '^arn:[^:]+:[^:]+:[^:]*:([0-9]{12}:|:[^*?]+$)',
                    ) }},
                    true
                )
            )
            or (
                event_name like '%FunctionUrlConfig%'
                and {{ json_string('request_parameters', '$.authType') }} = 'NONE'
            )
        )

)

select * from final
