{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__filtered')) }}

-- Filters before storage (vars.storage_filters.cloudtrail): rows failing any condition never
-- reach the lake.

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__filtered') }}

),

final as (

    select * from events
    where {{ storage_filter('cloudtrail') }}

)

select * from final
