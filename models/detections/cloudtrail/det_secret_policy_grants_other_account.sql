-- Secrets Manager resource policy grants access to another account

{#- an Allow statement naming, as its principal, an account that is not the secret's own -#}
{%- set statement_grants_other_account -%}
    {{ json_string('statement', '$.Effect') }} = 'Allow'
    and {{ list_any(
        regex_extract_all(json_string('statement', '$.Principal'), '(^|"|::)([0-9]{12})("|:|$)', 2),
        'account',
        'account != recipient_account_id'
    ) }}
{%- endset %}

with

events as (

    select * from {{ detection_events() }}

),

policies as (

    select
        *,
        -- only a policy Secrets Manager accepted is read: a rejected one need not even be JSON
        case
            when error_code is null
                then nullif({{ json_string('request_parameters', '$.resourcePolicy') }}, '')
        end as policy_text
    from events
    where
        event_source = 'secretsmanager.amazonaws.com'
        and event_name = 'PutResourcePolicy'

),

statements as (

    select
        *,
        {{ json_path_strings('policy_text', ['Statement']) }} as policy_statements
    from policies

),

final as (

    select {{ star_except(['policy_text', 'policy_statements']) }} from statements
    where {{ list_any('policy_statements', 'statement', statement_grants_other_account) }}

)

select * from final
