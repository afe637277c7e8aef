{{
    config(
        materialized='lake_partitions',
        partition_by='event_date',
        driven_by='landing/cloudtrail',
        watermark='landed_at',
        unique_key='event_id',
    )
}}

with

events as (

    select * from {{ enrichment_output('cloudtrail') }}
    where {{ lake_partition_filter() }}

),

ranked as (

    select
        *,
        -- The same record can be delivered twice (retries, overlapping trails, reloads):
        -- keep the first landing of each eventID.
        row_number() over (
            partition by event_id
            order by landed_at, source_object
        ) as delivery_rank
    from events

),

final as (

    -- staging's columns, then each enrichment step's, in chain order
    select * exclude (delivery_rank)
    from ranked
    where delivery_rank = 1

)

select * from final
