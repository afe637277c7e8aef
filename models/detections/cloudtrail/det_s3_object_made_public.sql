-- S3 object made public by its ACL

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('PutObjectAcl', 'PutObject', 'CopyObject')
        and error_code is null
        and {{ regex_matches(
            json_text('request_parameters'),
            '"x-amz-acl"\\s*:\\s*\\[?\\s*"(public-read|public-read-write|authenticated-read)"'
            ~ '|acs[.]amazonaws[.]com/groups/global/(AllUsers|AuthenticatedUsers)'
        ) }}

)

select * from final
