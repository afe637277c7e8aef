-- Console sign-in succeeded after repeated failures

with

events as (

    select * from {{ detection_events() }}

),

sign_ins as (

    select * from events
    where
        event_source = 'signin.amazonaws.com'
        and event_name = 'ConsoleLogin'

),

failed as (

    select * from sign_ins
    where {{ json_string('response_elements', '$.ConsoleLogin') }} = 'Failure'

),

-- a step of the sequence: failures of one user from one address, several within the window
repeated_failures as (

    select {{ star_except(threshold_columns()) }}
    from (
        {{ threshold_matches(
            'failed',
            ['recipient_account_id', 'principal_name', 'source_ip_address'],
            minutes=detection_param('within_minutes', 30),
            at_least=detection_param('at_least_failures', 3)
        ) }}
    ) as burst

),

succeeded as (

    select * from sign_ins
    where {{ json_string('response_elements', '$.ConsoleLogin') }} = 'Success'

),

final as (

    {{ sequence_matches([
        {'relation': 'repeated_failures',
         'key': "{step}.recipient_account_id || '|' || {step}.principal_name"},
        {'relation': 'succeeded',
         'key': "{step}.recipient_account_id || '|' || {step}.principal_name",
         'also': 'succeeded.source_ip_address = repeated_failures.source_ip_address'},
    ], within_minutes=detection_param('within_minutes', 30)) }}

)

select * from final
