{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/cloudtrail',
        watermark='landed_at',
        unique_key='event_id',
        order_by='event_time, event_id',
    )
}}

with

events as (

    select * from {{ enrichment_output('cloudtrail') }}
    where {{ lake_partition_filter() }}

),

final as (

    -- The same record can be delivered twice (retries, overlapping trails, reloads): the
    -- first landing of each eventID, with staging's columns, then each enrichment step's
    {{ first_landing('events') }}

)

select * from final
