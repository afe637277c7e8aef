-- API calls from a network new for the principal

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and principal_type in ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
        and invoked_by is null
        and not coalesce(is_automation, false)
        and source_asn is not null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_source_asn',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
