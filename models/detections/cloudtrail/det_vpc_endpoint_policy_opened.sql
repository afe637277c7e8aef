-- VPC endpoint policy reset or opened to full access

{# CloudTrail wraps newer EC2 requests in their request shape
    (ModifyVpcEndpointRequest.PolicyDocument); older records name the parameters themselves:
    both are read. -#}
{%- set reset_policy = "lower(coalesce("
    ~ json_string('request_parameters', '$.ModifyVpcEndpointRequest.ResetPolicy') ~ ", "
    ~ json_string('request_parameters', '$.resetPolicy') ~ ", "
    ~ json_string('request_parameters', '$.ResetPolicy') ~ "))" -%}
{%- set policy_document = "coalesce("
    ~ json_string('request_parameters', '$.ModifyVpcEndpointRequest.PolicyDocument') ~ ", "
    ~ json_string('request_parameters', '$.policyDocument') ~ ", "
    ~ json_string('request_parameters', '$.PolicyDocument') ~ ")" -%}
{#- One statement of the document as a document of its own, for the policy macros. -#}
{%- set statement_alone = "'{\"Statement\": [' || endpoint_statement || ']}'" -%}

with

events as (

    select * from {{ detection_events() }}

),

modified as (

    select
        *,
        {{ reset_policy }} = 'true' as resets_policy,
        {{ policy_document }} as endpoint_policy
    from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'ModifyVpcEndpoint'

),

final as (

    select {{ star_except(['resets_policy', 'endpoint_policy']) }}
    from modified
    where
        -- back to the default policy: every principal, every action, every resource
        resets_policy
        -- or a document that lets anyone do anything through the endpoint: an Allow of any
        -- principal (no condition confining who), of every action (`*` or the service's
        -- `s3:*`) on every resource, that no resource condition (aws:ResourceOrgID,
        -- aws:ResourceAccount: the data perimeter) confines, in a document without a Deny
        or (
            {{ list_any(
                policy_statements('endpoint_policy'),
                'endpoint_statement',
                policy_allows_anyone(statement_alone)
                ~ ' and ' ~ list_any(
                    json_path_strings('endpoint_statement', ['Action']),
                    'action',
                    regex_matches('lower(action)', '^([a-z0-9-]+:)?[*]$'))
                ~ ' and ' ~ list_any(
                    json_path_strings('endpoint_statement', ['Resource']),
                    'resource',
                    "resource in ('*', 'arn:*')")
                ~ ' and not ' ~ regex_matches(
                    'lower(endpoint_statement)',
                    '"aws:(resourceorgid|resourceorgpaths|resourceaccount)"')
            ) }}
            and not {{ list_any(
                policy_statements('endpoint_policy'),
                'endpoint_statement',
                json_string('endpoint_statement', '$.Effect') ~ " = 'Deny'"
            ) }}
        )

)

select * from final
