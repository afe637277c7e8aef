-- SES sending identity verified or production access requested

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ses.amazonaws.com'
        and (
            event_name in (
                'VerifyEmailIdentity',
                'VerifyDomainIdentity',
                'CreateEmailIdentity',
                'PutAccountDetails'
            )
            or (
                event_name in ('UpdateAccountSendingEnabled', 'PutAccountSendingAttributes')
                and {{ json_text('request_parameters') }} like '%true%'
            )
        )

)

select * from final
