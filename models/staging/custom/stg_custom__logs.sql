with

source as (

    select * from {{ landing_or_empty(
        source('custom', 'logs'), 'custom_logs', line_landing_columns()
    ) }}

),

renamed as (

    select
        event_id,
        event_time,
        event_date,
        log_format,
        cast(fields as {{ json_type() }}) as fields,  -- noqa: RF04
        raw,
        line_number,
        source_object,
        collection,
        landed_at
    from source

)

select * from renamed
