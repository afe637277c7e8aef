-- Customer-managed policy granting every action on every resource

with

events as (

    select * from {{ detection_events() }}

),

new_documents as (

    select
        *,
        {{ json_string('request_parameters', '$.policyDocument') }} as policy_document
    from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and (
            event_name = 'CreatePolicy'
            or (
                -- a version only takes effect as the default one
                event_name = 'CreatePolicyVersion'
                and {{ json_string('request_parameters', '$.setAsDefault') }} = 'true'
            )
        )

),

-- cheap pre-filter before parsing: some "Action" holds "*" or "*:*"
candidates as (

    select * from new_documents
    where {{ regex_matches('policy_document', '"Action"\\s*:\\s*(\\[[^\\]]*)?"\\*(:\\*)?"') }}

),

final as (

    select {{ star_except(['policy_document']) }} from candidates
    where
        -- an Allow statement (one, or one of a list) with the action "*" on the resource "*";
        -- Deny statements and scoped resources do not count
        -- parsed only for accepted calls: a rejected document need not be JSON
        case
            when error_code is null
                then {{ list_any(
                    json_path_strings('policy_document', ['Statement']),
                    'stmt',
                    json_string('stmt', '$.Effect') ~ " = 'Allow'"
                    ~ ' and ' ~ list_any(
                        json_path_strings('stmt', ['Action']), 'act', "act in ('*', '*:*')"
                    )
                    ~ ' and ' ~ list_any(
                        json_path_strings('stmt', ['Resource']), 'res', "res = '*'"
                    )
                ) }}
            else false
        end

)

select * from final
