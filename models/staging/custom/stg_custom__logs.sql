with

source as (

    select * from {{ landing_or_empty(source('custom', 'logs'), 'custom_logs', {
        'event_id': 'varchar', 'event_time': 'timestamptz', 'event_date': 'date',
        'line_number': 'bigint', 'raw': 'varchar', 'fields': 'varchar',
        'log_format': 'varchar', 'source_object': 'varchar', 'landed_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        event_id,
        event_time,
        event_date,
        log_format,
        cast(fields as json) as fields,  -- noqa: RF04
        raw,
        line_number,
        source_object,
        landed_at
    from source

)

select * from renamed
