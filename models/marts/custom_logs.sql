{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/custom_logs',
        watermark='landed_at',
        unique_key='event_id',
    )
}}

with

lines as (

    select * from {{ ref('stg_custom__logs') }}
    where {{ lake_partition_filter() }}

),

ranked as (

    select
        *,
        row_number() over (partition by event_id order by landed_at, source_object) as delivery_rank
    from lines

),

final as (

    select * exclude (delivery_rank)
    from ranked
    where delivery_rank = 1

)

select * from final
