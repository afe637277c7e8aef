with

source as (

    select * from {{ landing_or_empty(source('web', 'access_log'), 'http_access_log', {
        'event_id': 'varchar', 'event_time': 'timestamptz', 'event_date': 'date',
        'line_number': 'bigint', 'raw': 'varchar', 'fields': 'varchar',
        'log_format': 'varchar', 'source_object': 'varchar', 'landed_at': 'timestamptz',
    }) }}

),

parsed as (

    select
        *,
        {{ json_to_struct('fields', {
            'client_ip': 'VARCHAR', 'remote_user': 'VARCHAR', 'http_method': 'VARCHAR',
            'path': 'VARCHAR', 'query_string': 'VARCHAR', 'http_version': 'VARCHAR',
            'status': 'VARCHAR', 'bytes_sent': 'VARCHAR', 'referer': 'VARCHAR',
            'user_agent': 'VARCHAR', 'host': 'VARCHAR', 'forwarded_for': 'VARCHAR',
            'request': 'VARCHAR',
        }) }} as line
    from source

),

renamed as (

    select
        event_id,
        event_time,
        event_date,
        line.client_ip,
        line.remote_user,
        line.http_method,
        line.path,
        line.query_string,
        line.http_version,
        try_cast(line.status as integer) as status,
        try_cast(line.bytes_sent as bigint) as bytes_sent,
        line.referer,
        line.user_agent,
        line.host,
        line.forwarded_for,
        line.request,
        raw,
        line_number,
        log_format,
        source_object,
        landed_at
    from parsed

)

select * from renamed
