-- Security Hub automation rule suppresses findings

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'securityhub.amazonaws.com'
        and event_name in ('CreateAutomationRule', 'BatchUpdateAutomationRules')
        and {{ regex_matches(json_text('request_parameters'), '"status"\\s*:\\s*"SUPPRESSED"') }}

)

select * from final
