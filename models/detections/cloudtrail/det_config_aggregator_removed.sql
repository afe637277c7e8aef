-- AWS Config aggregator or aggregation authorization removed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'config.amazonaws.com'
        and event_name in ('DeleteConfigurationAggregator', 'DeleteAggregationAuthorization')
        and error_code is null
        and not {{ acted_by_aws_service() }}

)

select * from final
