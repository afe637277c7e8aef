-- OpenSearch domain access policy open to everyone

{#- a statement that lets anyone in: Allow, a "*" principal, no condition narrowing it -#}
{%- set statement_is_public -%}
    {{ json_string('statement', '$.Effect') }} = 'Allow'
    and {{ json_value('statement', '$.Condition') }} is null
    and {{ regex_matches(json_string('statement', '$.Principal'), '^[*]$|"[*]"') }}
{%- endset %}

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        -- only a policy the service accepted is read: a rejected one need not even be JSON
        case
            when error_code is null
                then nullif({{ json_string('request_parameters', '$.accessPolicies') }}, '')
        end as policy_text
    from events
    where
        event_source = 'es.amazonaws.com'
        and event_name in (
            'CreateDomain',
            'UpdateDomainConfig',
            'CreateElasticsearchDomain',
            'UpdateElasticsearchDomainConfig'
        )
        -- a domain created inside a VPC is reachable from that VPC only
        and not {{ regex_matches(
            json_text('request_parameters'), '(?i)"subnetIds"\\s*:\\s*\\[\\s*"'
        ) }}

),

statements as (

    select
        *,
        {{ json_path_strings('policy_text', ['Statement']) }} as policy_statements
    from policies

),

final as (

    select {{ star_except(['policy_text', 'policy_statements']) }} from statements
    where {{ list_any('policy_statements', 'statement', statement_is_public) }}

)

select * from final
