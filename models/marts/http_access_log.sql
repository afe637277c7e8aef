{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/http_access_log',
        watermark='landed_at',
        unique_key='event_id',
        order_by='event_time, event_id',
    )
}}

with

lines as (

    select * from {{ ref('stg_web__access_log') }}
    where {{ lake_partition_filter() }} and {{ storage_filter('http_access_log') }}

),

final as (

    -- a file re-read after it grew or was rotated gives its old lines the same event_id
    {{ first_landing('lines') }}

)

select * from final
