-- IAM Access Analyzer or Macie disabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        (
            (
                event_source = 'access-analyzer.amazonaws.com'
                and event_name = 'DeleteAnalyzer'
            )
            or (
                event_source in ('macie2.amazonaws.com', 'macie.amazonaws.com')
                and event_name in ('DisableMacie', 'DisassociateFromAdministratorAccount')
            )
        )

)

select * from final
