-- IAM Identity Center permission set given administrator access

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'sso.amazonaws.com'
        and (
            (
                event_name = 'AttachManagedPolicyToPermissionSet'
                and {{ json_string('request_parameters', '$.managedPolicyArn') }}
                like '%:policy/AdministratorAccess'
            )
            or (
                event_name = 'PutInlinePolicyToPermissionSet'
                and {{ policy_grants_admin(json_string('request_parameters', '$.inlinePolicy')) }}
            )
        )

)

select * from final
