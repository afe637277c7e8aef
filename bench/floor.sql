-- The floor: one DuckDB statement from the raw .json.gz files to event_date-partitioned
-- Parquet with the columns of cloudtrail_events: the best a single DuckDB process can do.
-- {files} and {target} are filled in by bench/run.py.
copy (
    with records as (
        select unnest(Records) as raw
        from read_json({files}, columns = {{'Records': 'JSON[]'}}, maximum_object_size = 134217728)
    ),
    parsed as (
        select
            raw,
            from_json(raw, '{{"eventID":"VARCHAR","eventTime":"VARCHAR","eventVersion":"VARCHAR",
                "eventSource":"VARCHAR","eventName":"VARCHAR","eventType":"VARCHAR",
                "eventCategory":"VARCHAR","awsRegion":"VARCHAR","recipientAccountId":"VARCHAR",
                "sourceIPAddress":"VARCHAR","userAgent":"VARCHAR","errorCode":"VARCHAR",
                "errorMessage":"VARCHAR","readOnly":"BOOLEAN","managementEvent":"BOOLEAN",
                "requestID":"VARCHAR","sharedEventID":"VARCHAR","vpcEndpointId":"VARCHAR",
                "userIdentity":"JSON","requestParameters":"JSON","responseElements":"JSON",
                "additionalEventData":"JSON","resources":"JSON","serviceEventDetails":"JSON",
                "tlsDetails":{{"tlsVersion":"VARCHAR"}}}}') as ct
        from records
    ),
    identity as (
        select
            *,
            from_json(ct.userIdentity, '{{"type":"VARCHAR","principalId":"VARCHAR",
                "arn":"VARCHAR","accountId":"VARCHAR","accessKeyId":"VARCHAR",
                "userName":"VARCHAR","invokedBy":"VARCHAR",
                "sessionContext":{{"sessionIssuer":{{"arn":"VARCHAR","userName":"VARCHAR"}},
                "attributes":{{"mfaAuthenticated":"VARCHAR"}}}},
                "onBehalfOf":{{"userId":"VARCHAR"}}}}') as who
        from parsed
    )
    select
        ct.eventID as event_id,
        cast(ct.eventTime as timestamptz) as event_time,
        cast(cast(ct.eventTime as timestamptz) as date) as event_date,
        ct.eventVersion as event_version,
        ct.eventSource as event_source,
        ct.eventName as event_name,
        ct.eventType as event_type,
        ct.eventCategory as event_category,
        ct.awsRegion as aws_region,
        ct.recipientAccountId as recipient_account_id,
        ct.sourceIPAddress as source_ip_address,
        ct.userAgent as user_agent,
        ct.errorCode as error_code,
        ct.errorMessage as error_message,
        ct.readOnly as read_only,
        ct.managementEvent as management_event,
        ct.requestID as request_id,
        ct.sharedEventID as shared_event_id,
        ct.vpcEndpointId as vpc_endpoint_id,
        ct.userIdentity as user_identity,
        who.type as principal_type,
        who.arn as principal_arn,
        coalesce(who.principalId, who.onBehalfOf.userId) as principal_id,
        coalesce(who.userName, who.sessionContext.sessionIssuer.userName, who.invokedBy)
            as principal_name,
        who.accountId as account_id,
        who.accessKeyId as access_key_id,
        who.sessionContext.attributes.mfaAuthenticated = 'true' as session_mfa,
        who.sessionContext.sessionIssuer.arn as session_issuer_arn,
        ct.requestParameters as request_parameters,
        ct.responseElements as response_elements,
        ct.additionalEventData as additional_event_data,
        ct.resources,
        ct.tlsDetails.tlsVersion as tls_version,
        list_distinct(regexp_extract_all(
            concat_ws(' ', ct.requestParameters, ct.responseElements), '[0-9][0-9.]*[0-9]'
        )) as ips,
        raw
    from identity
) to {target} (format parquet, compression zstd, partition_by (event_date))
