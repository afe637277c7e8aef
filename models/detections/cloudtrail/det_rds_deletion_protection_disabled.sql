-- RDS deletion protection disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'rds.amazonaws.com'
        and event_name in ('ModifyDBInstance', 'ModifyDBCluster')
        and {{ json_string('request_parameters', '$.deletionProtection') }} = 'false'

)

select * from final
