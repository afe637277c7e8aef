-- Route 53 Resolver query logging removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'route53resolver.amazonaws.com'
        and event_name in ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig')

)

select * from final
