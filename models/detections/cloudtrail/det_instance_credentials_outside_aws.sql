-- Instance role credentials used from outside AWS

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        principal_type = 'AssumedRole'
        and {{ regex_matches('principal_session_name', '^i-[0-9a-fA-F]{8,17}$') }}
        and source_ip_class = 'public'
        and source_network_name is null

)

select * from final
