with

source as (

    select * from {{ landing_or_empty(
        source('web', 'access_log'), 'http_access_log', line_landing_columns()
    ) }}

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
        }) }} as parsed_line
    from source

),

renamed as (

    select
        event_id,
        event_time,
        event_date,
        parsed_line.client_ip,
        parsed_line.remote_user,
        parsed_line.http_method,
        parsed_line.path,
        parsed_line.query_string,
        parsed_line.http_version,
        try_cast(parsed_line.status as integer) as status,
        try_cast(parsed_line.bytes_sent as bigint) as bytes_sent,
        parsed_line.referer,
        parsed_line.user_agent,
        parsed_line.host,
        parsed_line.forwarded_for,
        parsed_line.request,
        raw,
        line_number,
        log_format,
        source_object,
        collection,
        landed_at
    from parsed

)

select * from renamed
