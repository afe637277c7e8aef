-- Our credentials used through another account's VPC endpoint

with

events as (

    select * from {{ detection_events() }}

),

-- Calls that reached AWS through a VPC endpoint another account owns: the caller was inside
-- that account's network. Stolen instance or access keys used from an attacker's own VPC
-- look private and AWS-owned, so "outside AWS" detections never see them.
through_foreign_endpoints as (

    select
        events.*,
        {{ list_any(
            'our_accounts.our_account_ids', 'ours', 'ours = events.vpc_endpoint_account_id'
        ) }} as endpoint_is_ours,
        {{ list_any('our_accounts.our_account_ids', 'ours', 'ours = events.account_id') }}
            as caller_is_ours
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.vpc_endpoint_account_id is not null
        and events.vpc_endpoint_account_id != events.recipient_account_id
        and events.vpc_endpoint_account_id != coalesce(events.account_id, '')
        and events.principal_type in ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')

),

final as (

    select {{ star_except(['endpoint_is_ours', 'caller_is_ours']) }}
    from through_foreign_endpoints
    where
        not coalesce(endpoint_is_ours, false)
        -- our credentials, not a partner's principal reading a resource we share with it
        and (account_id = recipient_account_id or coalesce(caller_is_ours, false))
        and not {{ acted_by_aws_service() }}

)

select * from final
