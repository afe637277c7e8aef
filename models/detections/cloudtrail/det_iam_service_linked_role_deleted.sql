-- Service-linked role of a security service deleted

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'DeleteServiceLinkedRole'
        -- the roles GuardDuty, Config, Security Hub, Macie, Inspector, Detective, CloudTrail
        -- and IAM Access Analyzer work through
        and {{ regex_matches(
            json_string('request_parameters', '$.roleName'),
            '^AWSServiceRoleFor(AmazonGuardDuty|Config|SecurityHub|AmazonMacie|AmazonInspector'
            ~ '|Detective|CloudTrail|AccessAnalyzer)'
        ) }}

)

select * from final
