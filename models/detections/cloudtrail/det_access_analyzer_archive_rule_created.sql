-- IAM Access Analyzer archive rule created

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'access-analyzer.amazonaws.com'
        and event_name in ('CreateArchiveRule', 'UpdateArchiveRule')

)

select * from final
