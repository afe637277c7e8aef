-- EKS cluster administrator access granted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'eks.amazonaws.com'
        and (
            (
                event_name = 'AssociateAccessPolicy'
                and {{ regex_matches(
                    json_string('request_parameters', '$.policyArn'),
                    'AmazonEKS(Cluster)?AdminPolicy$'
                ) }}
            )
            or (
                event_name in ('CreateAccessEntry', 'UpdateAccessEntry')
                and {{ json_text('request_parameters') }} like '%system:masters%'
            )
        )

)

select * from final
