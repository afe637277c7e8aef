-- Instance profile of a running instance replaced

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name = 'ReplaceIamInstanceProfileAssociation'

)

select * from final
