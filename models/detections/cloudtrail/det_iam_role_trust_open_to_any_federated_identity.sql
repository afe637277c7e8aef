-- Role trust policy open to any identity of a web identity provider

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateRole', 'UpdateAssumeRolePolicy')
        -- an Allow to a Federated (OIDC, Cognito, Google...) principal for
        -- AssumeRoleWithWebIdentity with no condition on who the token is for: the subject
        -- (repository, project, service account) or our own identity pool or app
        and {{ policy_trusts_any_federated_identity(
            'coalesce('
            ~ json_string('request_parameters', '$.assumeRolePolicyDocument') ~ ', '
            ~ json_string('request_parameters', '$.policyDocument') ~ ')'
        ) }}

)

select * from final
