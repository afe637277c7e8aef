-- Web vulnerability scanner or fuzzer by user agent

with

requests as (

    select * from {{ web_detection_events() }}

),

signatures as (

    select * from {{ ref('web_scanner_signatures') }}

),

final as (

    select requests.*
    from requests
    where exists (
        select 1
        from signatures
        where {{ matches_glob('lower(requests.user_agent)', 'signatures.user_agent_pattern') }}
    )

)

select * from final
