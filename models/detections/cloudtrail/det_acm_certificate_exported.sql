-- ACM private certificate and key exported

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'acm.amazonaws.com'
        and event_name = 'ExportCertificate'

)

select * from final
