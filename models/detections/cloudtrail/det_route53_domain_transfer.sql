-- Route 53 domain transfer or transfer lock removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'route53domains.amazonaws.com'
        and error_code is null
        and event_name in (
            -- not TransferDomain: that brings a domain in from another registrar
            'TransferDomainToAnotherAwsAccount',
            'DisableDomainTransferLock',
            'RetrieveDomainAuthCode'
        )

)

select * from final
