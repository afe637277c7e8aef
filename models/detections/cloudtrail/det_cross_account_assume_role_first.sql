-- Role assumed from an account for the first time
-- (a role with little or no history counts once the lake has enough: dormant or new roles
-- assumed from another account are news too)

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and event_source = 'sts.amazonaws.com'
        and event_name = 'AssumeRole'
        and account_id != recipient_account_id
        and principal_type != 'AWSService'

),

final as (

    {{ first_seen_matches(
        'candidates',
        'role_assumer_account',
        min_history_days=detection_param('min_history_days', 3),
        new_subjects=true
    ) }}

)

select * from final
