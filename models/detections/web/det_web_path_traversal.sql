-- Path traversal attempt in the request target

with

requests as (

    select * from {{ web_detection_events() }}

),

decoded as (

    select
        *,
        {#- twice: attackers double-encode (%252e%252e) to slip past a single decode -#}
        {%- set raw_target = "coalesce(path, '') || '?' || coalesce(query_string, '')" %}
        lower({{ url_decode(url_decode(raw_target)) }}) as request_target
    from requests

),

final as (

    select {{ star_except(["request_target"]) }} from decoded
    where
        request_target like '%../%'
        or contains(request_target, {{ sql_string('..\\') }})
        or request_target like '%/etc/passwd%'
        or request_target like '%/etc/shadow%'
        or request_target like '%win.ini%'
        or request_target like '%/proc/self/%'

)

select * from final
