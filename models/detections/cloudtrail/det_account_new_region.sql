-- First changes in a region the account never used

with

events as (

    select * from {{ detection_events() }}

),

candidates as (

    select * from events
    where
        error_code is null
        and read_only = false
        and invoked_by is null
        and principal_type != 'AWSService'
        and aws_region is not null

),

final as (

    {{ first_seen_matches(
        'candidates',
        'account_region',
        min_history_days=detection_param('min_history_days', 7)
    ) }}

)

select * from final
