-- Calls from an account never seen before

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and account_id != recipient_account_id
        and principal_type != 'AWSService'
        and invoked_by is null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'account_caller_account',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
