-- EKS control-plane logging disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'eks.amazonaws.com'
        and event_name = 'UpdateClusterConfig'
        and {{ regex_matches(json_text('request_parameters'), '"enabled"\\s*:\\s*false') }}

)

select * from final
