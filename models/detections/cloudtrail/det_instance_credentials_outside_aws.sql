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

aws_ranges as (

    select count(*) as prefixes from {{ ref('aws_ip_ranges') }}

),

-- until AWS's ranges are loaded, an address the role's sessions used on an earlier day is
-- theirs (an instance's NAT gateway); once they are, the address alone decides, so a thief's
-- address does not become the role's own by being used (or dismissed) once
new_for_the_role as (

    {{ first_seen_matches('candidates', 'principal_source_ip', min_history_days=0) }}

),

final as (

    select candidates.*
    from candidates
    cross join aws_ranges
    where aws_ranges.prefixes > 0
    union all
    select new_for_the_role.*
    from new_for_the_role
    cross join aws_ranges
    where aws_ranges.prefixes = 0

)

select * from final
