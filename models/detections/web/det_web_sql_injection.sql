-- SQL injection patterns in the request target

with

requests as (

    select * from {{ web_detection_events() }}

),

decoded as (

    select
        *,
        lower({{ url_decode("coalesce(path, '') || '?' || coalesce(query_string, '')") }})
            as request_target
    from requests

),

final as (

    select {{ star_except(["request_target"]) }} from decoded
    where
        {{ regex_matches(
            'request_target',
            "union(\\s|/\\*.*\\*/)+(all(\\s)+)?select|'\\s*or\\s*'?\\d+'?\\s*=\\s*'?\\d+"
            ~ "|(sleep|benchmark|pg_sleep)\\s*\\(|information_schema|xp_cmdshell"
            ~ "|;\\s*(drop|insert|update|delete)\\s|'\\s*--"
        ) }}

)

select * from final
