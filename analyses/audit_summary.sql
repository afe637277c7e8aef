-- A compliance-style summary per account: the controls auditors ask about, as counts.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

alerts as (

    select * from {{ ref('alerts') }}

),

per_account as (

    select
        recipient_account_id as account_id,
        min(event_time) as first_event_at,
        max(event_time) as last_event_at,
        count(*) as events,
        count(*) filter (where principal_type = 'Root') as root_calls,
        count(*) filter (
            where event_name = 'ConsoleLogin' and session_mfa is false
        ) as console_logins_without_mfa,
        count(*) filter (
            where event_source = 'cloudtrail.amazonaws.com'
            and event_name in ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors')
        ) as trail_changes,
        count(*) filter (
            where event_source = 'iam.amazonaws.com' and not coalesce(read_only, true)
        ) as iam_changes,
        count(*) filter (
            where error_code like '%AccessDenied%' or error_code like '%Unauthorized%'
        ) as denied_calls,
        count(distinct principal_arn) as principals
    from events
    group by 1

),

alert_counts as (

    select
        account_id,
        count(*) filter (where not suppressed) as open_alerts,
        count(*) filter (where not suppressed and severity in ('high', 'critical'))
            as open_high_alerts
    from alerts
    group by 1

),

final as (

    select
        per_account.*,
        coalesce(alert_counts.open_alerts, 0) as open_alerts,
        coalesce(alert_counts.open_high_alerts, 0) as open_high_alerts
    from per_account
    left join alert_counts on per_account.account_id = alert_counts.account_id
    order by 1

)

select * from final
