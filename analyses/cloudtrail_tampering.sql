-- CloudTrail, Config, GuardDuty and flow-log changes that reduce what defenders can see.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        event_id,
        recipient_account_id,
        aws_region,
        principal_name,
        event_source,
        event_name,
        coalesce(
            json_extract_string(request_parameters, '$.name'),
            json_extract_string(request_parameters, '$.detectorId'),
            json_extract_string(request_parameters, '$.configurationRecorderName')
        ) as target_name,
        error_code
    from events
    where
        (event_source = 'cloudtrail.amazonaws.com' and event_name in (
            'StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
            'PutInsightSelectors', 'DeleteEventDataStore'
        ))
        or (event_source = 'config.amazonaws.com' and event_name in (
            'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'
        ))
        or (event_source = 'guardduty.amazonaws.com' and event_name in (
            'DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount'
        ))
        or (event_source = 'ec2.amazonaws.com' and event_name = 'DeleteFlowLogs')
    order by 1, 2

)

select * from final
