-- S3 bucket policy or ACL made public

with

events as (

    select * from {{ detection_events() }}

),

changes as (

    select
        *,
        -- the policy's statements as JSON texts ("Statement" is one object or a list of them)
        {%- set statement = json_string('request_parameters', '$.bucketPolicy.Statement') %}
        case
            when substr(ltrim({{ statement }}), 1, 1) = '{' then {{ list_of([statement]) }}
            else {{ json_string_list('request_parameters', '$.bucketPolicy.Statement[*]') }}
        end as statements
    from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('PutBucketPolicy', 'PutBucketAcl')
        and error_code is null

),

final as (

    select {{ star_except(['statements']) }} from changes
    where
        (
            event_name = 'PutBucketPolicy'
            -- a statement that allows everyone ("*", {"AWS": "*"}, or "*" in a list); a Deny
            -- for "*" (such as requiring TLS) restricts, and a condition pinning the caller
            -- to an organization, account or network makes it not public
            and {{ list_any('statements', 'statement',
                json_string('statement', '$.Effect') ~ " = 'Allow' and "
                ~ regex_matches(
                    "replace(statement, ' ', '')",
                    '"Principal":(\\{"AWS":)?(\\[("[^"]*",)*)?"\\*"'
                ) ~ " and not "
                ~ regex_matches(
                    'lower(statement)',
                    'aws:(principalorgid|principalorgpaths|principalaccount|sourcevpce?'
                    ~ '|sourceaccount|sourceowner|sourcearn)"'
                )
            ) }}
        )
        or (
            event_name = 'PutBucketAcl'
            and {{ regex_matches(
                json_text('request_parameters'),
                'acs[.]amazonaws[.]com/groups/global/(AllUsers|AuthenticatedUsers)'
            ) }}
        )

)

select * from final
