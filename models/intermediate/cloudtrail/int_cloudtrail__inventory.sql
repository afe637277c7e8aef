{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__inventory')) }}

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__inventory') }}

),

accounts as (

    select * from {{ ref('inventory_accounts') }}

),

inventory_networks as (

    select * from {{ ref('inventory_networks') }}

),

aws_ip_ranges as (

    select * from {{ ref('aws_ip_ranges') }}

),

-- the most specific network names an address; on a tie of prefix length our own entry wins
networks as (

    select
        cidr,
        network_name,
        network_trust,
        {{ cidr_prefix_length('cidr') }} * 2 + 1 as specificity
    from inventory_networks
    union all
    select
        cidr,
        'aws ' || lower(aws_service) || ' ' || aws_region as network_name,
        'aws' as network_trust,
        {{ cidr_prefix_length('cidr') }} * 2 as specificity
    from aws_ip_ranges

),

principals as (

    select * from {{ ref('inventory_principals') }}

),

assets as (

    select * from {{ ref('inventory_assets') }}

),

with_resources as (

    select
        *,
        {{ json_to_struct('request_parameters', cloudtrail_resource_shape()) }} as request_target,
        {{ json_string_list('resources', '$[*].ARN') }} as resource_arns
    from events

),

identified as (

    select
        *,
        -- every identifier of a resource the call acted on, most telling first
        {{ list_concat([
            list_of([
                'request_target.bucketName',
                'request_target.instanceId',
                'request_target.roleName',
                'request_target.userName',
                'request_target.groupName',
                'request_target.groupId',
                'request_target.policyArn',
                'request_target.keyId',
                'request_target.functionName',
                'request_target.detectorId',
                'request_target.dBInstanceIdentifier',
                'request_target.secretId',
                'request_target.name',
            ]),
            list_transform('request_target.instancesSet.items', 'item', 'item.instanceId'),
            'resource_arns',
        ]) }} as resource_candidates
    from with_resources

),

named as (

    select
        {{ star_except(['request_target', 'resource_arns', 'resource_candidates']) }},
        {{ list_filter(
            'resource_candidates', 'candidate', "candidate is not null and candidate != ''"
        ) }} as resource_ids
    from identified

),

primary_resource as (

    select
        *,
        -- the resource a call is about: what summaries name and assets are matched on
        {{ list_first('resource_ids') }} as resource_name
    from named

),

matched as (

    select
        resourced.*,
        accounts.account_name,
        accounts.account_environment,
        accounts.account_owner,
        -- correlated lookups, computed once per distinct value: the most specific match wins
        (
            select
                max_by(
                    {{ struct_of({
                        'network_name': 'networks.network_name',
                        'network_trust': 'networks.network_trust',
                    }) }},
                    networks.specificity
                )
            from networks
            where {{ ip_in_cidr('resourced.source_ip', 'networks.cidr') }}
        ) as network,
        (
            select
                max_by(
                    {{ struct_of({
                        'principal_owner': 'principals.principal_owner',
                        'principal_team': 'principals.principal_team',
                        'is_break_glass': 'principals.is_break_glass',
                    }) }},
                    length(principals.arn_pattern)
                )
            from principals
            where
                {{ matches_glob('resourced.principal_arn', 'principals.arn_pattern') }}
                or {{ matches_glob('resourced.session_issuer_arn', 'principals.arn_pattern') }}
        ) as principal,
        (
            select
                max_by(
                    {{ struct_of({
                        'asset_owner': 'assets.asset_owner',
                        'asset_criticality': 'assets.asset_criticality',
                    }) }},
                    length(assets.asset_pattern)
                )
            from assets
            where {{ matches_glob('resourced.resource_name', 'assets.asset_pattern') }}
        ) as asset_match
    from primary_resource as resourced
    left join accounts on resourced.recipient_account_id = accounts.account_id

),

final as (

    select
        {{ star_except(['network', 'principal', 'asset_match']) }},
        network.network_name as source_network_name,
        network.network_trust as source_network_trust,
        principal.principal_owner,
        principal.principal_team,
        coalesce(principal.is_break_glass, false) as is_break_glass,
        asset_match.asset_owner,
        asset_match.asset_criticality
    from matched

)

select * from final
