-- SNS topic policy open to everyone

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
        -- only a policy SNS accepted is read: a rejected one need not even be JSON
        case
            when error_code is not null then null
            when event_name = 'CreateTopic'
                then nullif({{ json_string('request_parameters', '$.attributes.Policy') }}, '')
            when {{ json_string('request_parameters', '$.attributeName') }} = 'Policy'
                then nullif({{ json_string('request_parameters', '$.attributeValue') }}, '')
        end as policy_text
    from events
    where
        event_source = 'sns.amazonaws.com'
        and event_name in ('SetTopicAttributes', 'CreateTopic')

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
