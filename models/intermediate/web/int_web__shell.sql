-- http_access_log mapped to the event shell: the same columns as every other source.

with

requests as (

    select * from {{ ref('http_access_log') }}

),

final as (

    select
        event_id,
        event_time,
        landed_at as received_at,
        'http_access_log' as source,  -- noqa: RF04
        'web' as category,
        case
            when status >= 500 then 'low'
            else 'info'
        end as severity,
        coalesce(http_method, '-') || ' ' || coalesce(path, '-') || ' → ' || cast(status as string)
        || ' for ' || coalesce(remote_user, client_ip)
        || coalesce(' on ' || host, '') as summary,  -- noqa: RF04
        {% call non_null_list() %}
            case when status >= 400 and status < 500 then 'client_error' end,
            case when status >= 500 then 'server_error' end,
            case when remote_user is not null then 'authenticated' end
        {% endcall %} as tags,
        {%- set detail_columns = [
            'http_method', 'path', 'query_string', 'http_version', 'status', 'bytes_sent',
            'referer', 'user_agent', 'host', 'source_object', 'line_number',
        ] %}
        {{ to_json_document(struct_of(dict(zip(detail_columns, detail_columns)))) }} as details,
        {{ utc_part('year', 'event_time') }} as year,  -- noqa: RF04
        {{ utc_part('month', 'event_time') }} as month,  -- noqa: RF04
        {{ utc_part('day', 'event_time') }} as day,  -- noqa: RF04
        {{ utc_part('hour', 'event_time') }} as hour,  -- noqa: RF04
        coalesce(remote_user, client_ip) as principal_name,
        {{ normalize_ip('client_ip') }} as source_ip,
        {% call non_null_list() %}{{ normalize_ip('client_ip') }}{% endcall %} as ips,
        cast(null as string) as account_name,
        case when status < 400 then 'success' else 'failure' end as outcome
    from requests

)

select * from final
