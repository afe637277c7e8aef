-- S3 bucket policy or ACL made public

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and error_code is null
        and (
            (
                event_name = 'PutBucketPolicy'
                and {{ regex_matches(
                    "replace(" ~ json_text('request_parameters') ~ ", ' ', '')",
                    '"Principal":(\\{"AWS":)?(\\[)?"\\*"'
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

)

select * from final
