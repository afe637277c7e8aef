-- Alerts per day and severity (suppressed ones left out): the report's "alerts over time".
with

alerts as (

    select * from {{ ref('alerts') }}

),

final as (

    select
        alert_date,
        severity,
        count(*) as alerts
    from alerts
    where not suppressed
    group by 1, 2
    order by 1, 2

)

select * from final
