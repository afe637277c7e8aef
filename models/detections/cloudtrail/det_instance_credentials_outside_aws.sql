-- Instance role credentials used from outside AWS

with

events as (

    select * from {{ detection_events() }}

),

-- AWS's own ranges (seed aws_ip_ranges) and our networks have a name: an instance's NAT
-- gateway or public address is one of them once `ingest networks aws-ranges` has run
candidates as (

    select * from events
    where
        principal_type = 'AssumedRole'
        and {{ regex_matches('principal_session_name', '^i-[0-9a-fA-F]{8,17}$') }}
        and source_ip_class = 'public'
        and source_network_name is null

),

-- and an address the role's sessions used on an earlier day is theirs (a NAT outside AWS's
-- list, or the ranges not loaded): what is left is an address the role never called from
final as (

    {{ first_seen_matches('candidates', 'principal_source_ip', min_history_days=0) }}

)

select * from final
