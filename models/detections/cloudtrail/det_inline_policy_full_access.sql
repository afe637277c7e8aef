-- Inline policy granting *:*

with

events as (

    select * from {{ detection_events() }}

),

inline_policies as (

    select
        *,
        -- the policy document is a JSON string; its statements as JSON texts ("Statement" is
        -- one object or a list of them)
        {%- set document = json_string('request_parameters', '$.policyDocument') %}
        {%- set statement = json_string(document, '$.Statement') %}
        case
            when substr(ltrim({{ statement }}), 1, 1) = '{' then {{ list_of([statement]) }}
            else {{ json_string_list(document, '$.Statement[*]') }}
        end as statements
    from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
        and error_code is null

),

final as (

    select {{ star_except(['statements']) }} from inline_policies
    -- one statement that allows every action ("*", alone or in a list) on every resource; a
    -- Deny of everything (quarantining a user or role) takes access away
    {%- set compact = regex_replace_all('statement', '\\s', '') %}
    where {{ list_any('statements', 'statement',
        json_string('statement', '$.Effect') ~ " = 'Allow' and "
        ~ regex_matches(compact, '"Action":(\\[("[^"]*",)*)?"\\*"') ~ ' and '
        ~ regex_matches(compact, '"Resource":(\\[("[^"]*",)*)?"\\*"')
    ) }}

)

select * from final
