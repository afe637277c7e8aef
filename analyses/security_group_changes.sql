-- Security group and network ACL changes: who opened or closed what.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        event_id,
        recipient_account_id,
        aws_region,
        principal_name,
        event_name,
        coalesce(
            json_extract_string(request_parameters, '$.groupId'),
            json_extract_string(request_parameters, '$.networkAclId')
        ) as group_id,
        cast(request_parameters as varchar) as changed_values,
        error_code
    from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in (
            'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
            'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
            'CreateSecurityGroup', 'DeleteSecurityGroup', 'ModifySecurityGroupRules',
            'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry', 'DeleteNetworkAclEntry'
        )
    order by 1, 2

)

select * from final
