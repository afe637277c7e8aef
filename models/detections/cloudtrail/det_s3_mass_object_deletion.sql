-- Mass deletion of S3 objects

with

events as (

    select * from {{ detection_events() }}

),

deletions as (

    select * from events
    where
        event_source = 's3.amazonaws.com'
        and event_name in ('DeleteObject', 'DeleteObjects')
        and error_code is null

),

final as (

    {{ threshold_matches(
        'deletions',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 50)
    ) }}

)

select * from final
