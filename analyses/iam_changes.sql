-- IAM policy, role, user and credential changes (write calls only).
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        event_id,
        recipient_account_id,
        principal_name,
        event_name,
        coalesce(
            json_extract_string(request_parameters, '$.roleName'),
            json_extract_string(request_parameters, '$.userName'),
            json_extract_string(request_parameters, '$.policyArn'),
            json_extract_string(request_parameters, '$.groupName')
        ) as target_name,
        error_code
    from events
    where
        event_source = 'iam.amazonaws.com'
        and not coalesce(read_only, false)
        and regexp_matches(
            event_name,
            '^(Create|Delete|Attach|Detach|Put|Update|Add|Remove|Set|Tag|Untag|Change|Upload)'
        )
    order by 1, 2

)

select * from final
