-- Role trust policy open to any AWS principal

with

events as (

    select * from {{ detection_events() }}

),

trust_changes as (

    select
        *,
        coalesce(
            {{ json_string('request_parameters', '$.assumeRolePolicyDocument') }},
            {{ json_string('request_parameters', '$.policyDocument') }}
        ) as trust_policy
    from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateRole', 'UpdateAssumeRolePolicy')
        and error_code is null

),

-- cheap pre-filter before parsing: a "*" principal somewhere; parsed only for accepted calls
-- (a rejected document need not be JSON)
candidates as (

    select
        *,
        case
            when error_code is null
                then {{ json_path_strings('trust_policy', ['Statement']) }}
        end as statements
    from trust_changes
    where {{ regex_matches('trust_policy', '"Principal"\\s*:\\s*(\\{[^}]*)?(\\[[^\\]]*)?"\\*"') }}

),

-- an Allow statement trusting "*" ("Principal": "*" or {"AWS": "*"}) with no condition to
-- narrow it (an external id, an organization, a source account)
final as (

    select {{ star_except(['trust_policy', 'statements']) }} from candidates
    where
        {{ list_any(
            'statements',
            'stmt',
            json_string('stmt', '$.Effect') ~ " = 'Allow'"
            ~ ' and ' ~ json_value('stmt', '$.Condition') ~ ' is null'
            ~ ' and (' ~ json_string('stmt', '$.Principal') ~ " = '*' or "
            ~ list_any(json_path_strings('stmt', ['Principal', 'AWS']), 'principal', "principal = '*'")
            ~ ')'
        ) }}

)

select * from final
