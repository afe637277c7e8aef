-- Alerts per ATT&CK tactic and technique (an alert counts once under each pair it maps to).
with

alerts as (

    select * from {{ ref('alerts') }}

),

by_tactic as (

    select
        unnest(mitre_tactics) as tactic,
        mitre_techniques
    from alerts
    where not suppressed

),

pairs as (

    select
        tactic,
        unnest(mitre_techniques) as technique
    from by_tactic

),

final as (

    select
        tactic,
        technique,
        count(*) as alerts
    from pairs
    group by 1, 2
    order by 1, 2

)

select * from final
