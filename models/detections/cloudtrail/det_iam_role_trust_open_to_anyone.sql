-- Role trust policy open to anyone

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateRole', 'UpdateAssumeRolePolicy')
        and error_code is null
        -- an Allow trusting "*" ("Principal": "*", {"AWS": "*"}) with no condition confining
        -- who (an organization, an account, a network); an external id does not confine
        and {{ policy_allows_anyone(
            'coalesce('
            ~ json_string('request_parameters', '$.assumeRolePolicyDocument') ~ ', '
            ~ json_string('request_parameters', '$.policyDocument') ~ ')'
        ) }}

)

select * from final
