{#-
    User agents matched against the `*` / `?` patterns of the `automation_user_agents` and
    `suspicious_user_agents` seeds: both the user agent and the pattern are normalised the same
    way, then matched with matches_glob. This is the one way to match a user agent.

    The normalisation, and why:
    - lower case: tools, SDKs and CloudTrail spell one product differently (`Boto3`, `boto3`,
      `Linux`, `os/linux`), and a seed's author should not have to guess the casing.
    - every run of whitespace, `[ ] ( ) , ;` becomes one space: CloudTrail wraps the user agent of
      S3 data events in brackets (`[aws-cli/2.15.0 ...]`, `[S3Console/0.4, aws-internal/3 ...]`),
      joins several with commas (`AWS Internal, console.amazonaws.com`), products carry comments
      in parentheses (`Terraform/1.6.0 (+https://www.terraform.io)`, `aws-sdk-go/1.44 (go1.19;
      linux; amd64)`) and tools glue their suffix with varying spaces (`Scout Suite/5.14.0`).
      The characters inside products (`/ # . - _ +`) stay: they are what tells a kernel flavour
      (`Linux/6.1.0-kali5-amd64`) or a distribution id (`md/distrib#kali.2024`) from a word that
      merely contains a tool's name (`kalimera`, `parroteer`, `opacus`).
    - one space before and after the user agent; a pattern gets the same where it does not
      start (end) with `*`: ` terraform/` in `* terraform/*` is a product's start (Terraform, not
      `python-terraform/`), even the user agent's first; `aws-sdk-java/*` anchors at the start of
      the user agent, brackets or not.
    Percent-decoding is not done: CloudTrail records the header as sent and no SDK or tool
    percent-encodes it. Nothing here stops a caller who rewrites the user agent altogether (any
    client can send any string): it makes the shapes real tools and SDK versions send match.
-#}
{% macro user_agent_text(expression) -%}
    trim({{ regex_replace_all('lower(' ~ expression ~ ')', '[ \\t\\n\\r\\f\\x0B\\[\\](),;]+', ' ') }})
{%- endmacro %}


{#- SQL: the user agent `expression`, normalised as above. -#}
{% macro normalized_user_agent(expression) -%}
    (' ' || {{ user_agent_text(expression) }} || ' ')
{%- endmacro %}


{#- SQL: the seed pattern `expression`, normalised as above. -#}
{% macro normalized_user_agent_pattern(expression) -%}
    {%- set text = user_agent_text(expression) -%}
    (
        case when left({{ text }}, 1) = '*' then '' else ' ' end
        || {{ text }}
        || case when right({{ text }}, 1) = '*' then '' else ' ' end
    )
{%- endmacro %}


{#- SQL: the user agent `user_agent` (an expression) matches the seed pattern `pattern` (an
    expression), both normalised as above. NULL when either is NULL. -#}
{% macro user_agent_matches(user_agent, pattern) -%}
    {{ matches_glob(normalized_user_agent(user_agent), normalized_user_agent_pattern(pattern)) }}
{%- endmacro %}


{#- SQL: each distinct user agent of `relation` that a `suspicious_user_agents` row matches
    (normalised and matched once per user agent, not per event), with `is_offensive`: an
    offensive match outranks a scanner's (Prowler run from Kali), and a row without a kind
    counts as offensive. What the attack-tool and security-scanner detections share. -#}
{% macro suspicious_tool_user_agents(relation) -%}
    select
        user_agents.user_agent,
        max(
            case
                when coalesce(suspicious_user_agents.tool_kind, 'offensive') = 'scanner' then 0
                else 1
            end
        ) = 1 as is_offensive
    from (
        select distinct user_agent
        from {{ relation }}
        where user_agent is not null
    ) as user_agents
    inner join {{ ref('suspicious_user_agents') }} as suspicious_user_agents
        on {{ user_agent_matches(
            'user_agents.user_agent', 'suspicious_user_agents.user_agent_pattern'
        ) }}
    group by 1
{%- endmacro %}
