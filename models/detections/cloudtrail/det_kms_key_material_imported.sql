-- External key material imported into KMS

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'kms.amazonaws.com'
        and event_name = 'ImportKeyMaterial'

)

select * from final
