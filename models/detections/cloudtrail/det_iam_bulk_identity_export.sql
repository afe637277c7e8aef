-- IAM authorization details or credential report exported

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in (
            'GetAccountAuthorizationDetails', 'GenerateCredentialReport', 'GetCredentialReport'
        )
        -- people, not the security tools and services that audit IAM on a schedule
        and {{ direct_human_call() }}

)

select * from final
