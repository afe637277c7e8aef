with

source as (

    select * from {{ landing_or_empty(source('landing', 'cloudtrail'), 'cloudtrail', {
        'event_id': 'varchar', 'event_time': 'timestamptz', 'event_date': 'date',
        'raw': 'json', 'source_object': 'varchar', 'landed_at': 'timestamptz',
        'collection': 'varchar',
    }) }}

),

parsed as (

    select
        {{ json_to_struct('raw', cloudtrail_record_shape()) }} as ct,
        raw,
        source_object,
        landed_at,
        collection,
        event_date
    from source

),

with_caller as (

    select
        *,
        {{ json_to_struct('ct.userIdentity', cloudtrail_identity_shape()) }} as caller
    from parsed

),

renamed as (

    select
        ---------- ids
        ct.eventID as event_id,
        ct.requestID as request_id,
        ct.sharedEventID as shared_event_id,
        ct.recipientAccountId as recipient_account_id,
        ct.vpcEndpointId as vpc_endpoint_id,
        ct.vpcEndpointAccountId as vpc_endpoint_account_id,

        ---------- event
        ct.eventVersion as event_version,
        ct.eventSource as event_source,
        ct.eventName as event_name,
        ct.eventType as event_type,
        ct.eventCategory as event_category,
        ct.awsRegion as aws_region,
        ct.sourceIPAddress as source_ip_address,
        ct.userAgent as user_agent,
        nullif(ct.errorCode, '') as error_code,
        ct.errorMessage as error_message,
        ct.tlsDetails.tlsVersion as tls_version,

        ---------- principal (userIdentity, flattened)
        ct.userIdentity as user_identity,
        caller.type as principal_type,
        caller.arn as principal_arn,
        coalesce(caller.principalId, caller.onBehalfOf.userId) as principal_id,
        case caller.type
            when 'Root' then 'root'
            when 'IAMUser' then caller.userName
            when 'AssumedRole'
                then coalesce(
                    caller.sessionContext.sessionIssuer.userName,
                    {{ regex_extract('caller.arn', ':assumed-role/([^/]+)/', 1) }}
                )
            when 'FederatedUser'
                then {{ regex_extract('caller.arn', ':federated-user/(.+)$', 1) }}
            when 'AWSService' then caller.invokedBy
            when 'IdentityCenterUser' then caller.onBehalfOf.userId
            else coalesce(
                caller.userName,
                {{ regex_extract('caller.arn', '[:/]([^:/]+)$', 1) }},
                caller.principalId
            )
        end as principal_name,
        case
            when caller.type = 'AssumedRole'
                then {{ regex_extract('caller.arn', ':assumed-role/[^/]+/(.+)$', 1) }}
        end as principal_session_name,
        caller.accountId as account_id,
        nullif(caller.accessKeyId, '') as access_key_id,
        caller.invokedBy as invoked_by,
        caller.sessionContext.sessionIssuer.arn as session_issuer_arn,

        ---------- json documents
        ct.requestParameters as request_parameters,
        ct.responseElements as response_elements,
        ct.additionalEventData as additional_event_data,
        ct.resources,
        ct.serviceEventDetails as service_event_details,
        raw,

        ---------- lineage
        source_object,
        collection,

        ---------- booleans
        ct.readOnly as read_only,
        ct.managementEvent as management_event,
        case
            when caller.sessionContext.attributes.mfaAuthenticated is not null
                then caller.sessionContext.attributes.mfaAuthenticated = 'true'
            when ct.eventName = 'ConsoleLogin'
                then {{ json_string('ct.additionalEventData', '$.MFAUsed') }} = 'Yes'
        end as session_mfa,

        ---------- timestamps
        {{ parse_utc_timestamp('ct.eventTime') }} as event_time,
        -- The landing partition: the UTC date of eventTime, computed by ingest at landing.
        event_date,
        landed_at

    from with_caller

),

final as (

    select * from renamed

)

select * from final
