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
                and {{ policy_allows_anyone(json_string('request_parameters', '$.bucketPolicy')) }}
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
