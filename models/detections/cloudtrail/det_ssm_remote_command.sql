-- Command or shell sent to an instance with SSM

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ssm.amazonaws.com'
        and event_name in ('SendCommand', 'StartSession')
        and error_code is null

)

select * from final
