-- Security Hub automation rule suppresses findings

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'securityhub.amazonaws.com'
        and event_name in (
            'CreateAutomationRule',
            'BatchUpdateAutomationRules',
            'CreateAutomationRuleV2',
            'UpdateAutomationRuleV2'
        )
        -- Security Hub logs its parameters in PascalCase ("Workflow": {"Status": "SUPPRESSED"})
        and {{ regex_matches(
            'lower(' ~ json_text('request_parameters') ~ ')', '"status"\\s*:\\s*"suppressed"'
        ) }}

)

select * from final
