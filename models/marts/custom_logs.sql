{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/custom_logs',
        watermark='landed_at',
        unique_key='event_id',
        order_by='event_time, event_id',
    )
}}

with

lines as (

    select * from {{ ref('stg_custom__logs') }}
    where {{ lake_partition_filter() }} and {{ storage_filter('custom_logs') }}

),

final as (

    {{ first_landing('lines') }}

)

select * from final
