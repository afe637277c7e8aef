-- Amazon Inspector or Detective disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        (
            event_source = 'inspector2.amazonaws.com'
            and event_name in ('Disable', 'DisassociateMember')
        )
        or (
            event_source = 'detective.amazonaws.com'
            and event_name in ('DeleteGraph', 'DisassociateMembership', 'DeleteMembers')
        )

)

select * from final
