-- Alerts that are not suppressed, newest first, with what they are about.
with

alerts as (

    select * from {{ ref('alerts') }}

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
        mitre_techniques
    from alerts
    where not suppressed
    order by
        case severity
            when 'critical' then 0 when 'high' then 1 when 'medium' then 2 when 'low' then 3
            else 4
        end,
        last_seen_at desc,
        alert_id
    limit {{ var('top', 500) }}

)

select * from final
