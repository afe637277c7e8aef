-- SES reconnaissance or sending changes

with

events as (

    select * from {{ detection_events() }}

),

ses_calls as (

    select * from events
    where
        event_source = 'ses.amazonaws.com'
        and event_name in (
            'GetSendQuota',
            'GetAccountSendingEnabled',
            'ListIdentities',
            'GetAccount',
            'ListEmailIdentities',
            'UpdateAccountSendingEnabled',
            'PutAccountSendingAttributes'
        )

),

final as (

    {{ threshold_matches(
        'ses_calls',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 3),
        distinct='event_name'
    ) }}

)

select * from final
