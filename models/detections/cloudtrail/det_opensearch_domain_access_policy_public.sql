-- OpenSearch domain access policy open to everyone

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        nullif({{ json_string('request_parameters', '$.accessPolicies') }}, '') as policy_text
    from events
    where
        -- a policy the service rejected grants nothing
        error_code is null
        and event_source = 'es.amazonaws.com'
        and event_name in (
            'CreateDomain',
            'UpdateDomainConfig',
            'CreateElasticsearchDomain',
            'UpdateElasticsearchDomainConfig'
        )
        -- a domain inside a VPC is reachable from that VPC only: its subnets are in the
        -- request (CreateDomain) or in the configuration the update returns
        and not {{ regex_matches(
            "coalesce(" ~ json_text('request_parameters') ~ ", '') || coalesce("
            ~ json_text('response_elements') ~ ", '')",
            '(?i)"subnetIds"\\s*:\\s*\\[\\s*"|"vpcId"\\s*:\\s*"vpc-'
        ) }}

),

final as (

    -- an Allow to anyone with no condition confining who (macros/policies.sql)
    select {{ star_except(['policy_text']) }} from policies
    where {{ policy_allows_anyone('policy_text') }}

)

select * from final
