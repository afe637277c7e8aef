-- Alerts that are not suppressed, most severe and newest first, with what they are about.
with

alerts as (

    select * from {{ ref('alerts') }}

),

ranked as (

    select
        *,
        case severity
            when 'critical' then 0 when 'high' then 1 when 'medium' then 2 when 'low' then 3
            else 4
        end as severity_rank
    from alerts
    where not suppressed

),

final as (

    select
        alert_id,
        severity,
        detection_id,
        title,
        summary,
        principal_arn,
        source_ip_address,
        account_id,
        first_seen_at,
        last_seen_at,
        event_count,
        event_ids,
        mitre_tactics,
        mitre_techniques,
        severity_rank
    from ranked
    order by 15 asc, 10 desc, 1 asc
    limit {{ var('top', 500) | int }}

)

select * from final
