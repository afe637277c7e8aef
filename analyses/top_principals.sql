-- The principals with the most calls, with how many failed and from how many addresses.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        principal_name,
        principal_type,
        principal_arn,
        count(*) as calls,
        count(*) filter (where error_code is not null) as failed_calls,
        count(distinct source_ip) as source_ips,
        count(distinct recipient_account_id) as account_count
    from events
    where principal_name is not null
    group by 1, 2, 3
    order by 4 desc, 1, 3
    limit {{ var('top', 20) | int }}

)

select * from final
