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
        -- an entry turning off the audit or authenticator log (infrastructure-as-code tools
        -- send every type on each update, the ones left off in an entry of their own)
        and {{ regex_matches(
            json_text('request_parameters'),
            '[{][^{}]*"enabled"\\s*:\\s*false[^{}]*"(audit|authenticator)"[^{}]*[}]'
            ~ '|[{][^{}]*"(audit|authenticator)"[^{}]*"enabled"\\s*:\\s*false[^{}]*[}]'
        ) }}

)

select * from final
