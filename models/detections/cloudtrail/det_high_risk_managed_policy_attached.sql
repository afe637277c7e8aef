-- High-risk AWS managed policy attached

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
        and {{ regex_matches(
            json_string('request_parameters', '$.policyArn'),
            ':policy/(IAMFullAccess|PowerUserAccess|AWSOrganizationsFullAccess'
            ~ '|AWSLambda_FullAccess|AWSCloudFormationFullAccess|SecretsManagerReadWrite'
            ~ '|AmazonSSMFullAccess|AWSCodeBuildAdminAccess)$'
        ) }}

)

select * from final
