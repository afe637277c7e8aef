-- Who assumed which role, from where, how often: the map of trust actually used.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        principal_name as assumed_by,
        json_extract_string(request_parameters, '$.roleArn') as role_arn,
        event_name,
        count(*) as assumptions,
        count(*) filter (where error_code is not null) as failed,
        list_sort(list_distinct(list(source_ip_address))) as source_ips,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at
    from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name in (
            'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'AssumeRoot'
        )
    group by 1, 2, 3
    order by 4 desc

)

select * from final
