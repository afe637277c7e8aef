-- Principal using a tool it never used

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and principal_type in ('IAMUser', 'AssumedRole', 'Root', 'FederatedUser')
        and invoked_by is null
        and not coalesce(is_automation, false)
        and user_agent is not null
        and user_agent not like '%.amazonaws.com%'
        and user_agent not like 'AWS Internal%'

),

final as (

    {{ first_seen_matches(
        'candidates',
        'principal_user_agent_family',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
