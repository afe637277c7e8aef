{#
    The shape of a CloudTrail record as parsed in staging. Objects whose keys vary by API
    (requestParameters, responseElements, ...) stay JSON; everything the models read by name
    is typed here, so a record is parsed once.
#}

{% macro cloudtrail_record_shape() %}
    {{ return({
        'eventVersion': 'VARCHAR',
        'eventTime': 'VARCHAR',
        'eventSource': 'VARCHAR',
        'eventName': 'VARCHAR',
        'eventType': 'VARCHAR',
        'eventCategory': 'VARCHAR',
        'eventID': 'VARCHAR',
        'awsRegion': 'VARCHAR',
        'recipientAccountId': 'VARCHAR',
        'sourceIPAddress': 'VARCHAR',
        'userAgent': 'VARCHAR',
        'errorCode': 'VARCHAR',
        'errorMessage': 'VARCHAR',
        'readOnly': 'BOOLEAN',
        'managementEvent': 'BOOLEAN',
        'requestID': 'VARCHAR',
        'sharedEventID': 'VARCHAR',
        'vpcEndpointId': 'VARCHAR',
        'vpcEndpointAccountId': 'VARCHAR',
        'sessionCredentialFromConsole': 'VARCHAR',
        'userIdentity': 'JSON',
        'requestParameters': 'JSON',
        'responseElements': 'JSON',
        'additionalEventData': 'JSON',
        'resources': 'JSON',
        'serviceEventDetails': 'JSON',
        'tlsDetails': {
            'tlsVersion': 'VARCHAR',
            'cipherSuite': 'VARCHAR',
            'clientProvidedHostHeader': 'VARCHAR',
        },
    }) }}
{% endmacro %}

{% macro cloudtrail_identity_shape() %}
    {{ return({
        'type': 'VARCHAR',
        'principalId': 'VARCHAR',
        'arn': 'VARCHAR',
        'accountId': 'VARCHAR',
        'accessKeyId': 'VARCHAR',
        'userName': 'VARCHAR',
        'invokedBy': 'VARCHAR',
        'credentialId': 'VARCHAR',
        'sessionContext': {
            'sessionIssuer': {
                'type': 'VARCHAR',
                'principalId': 'VARCHAR',
                'arn': 'VARCHAR',
                'accountId': 'VARCHAR',
                'userName': 'VARCHAR',
            },
            'attributes': {
                'creationDate': 'VARCHAR',
                'mfaAuthenticated': 'VARCHAR',
            },
            'sourceIdentity': 'VARCHAR',
        },
        'onBehalfOf': {
            'userId': 'VARCHAR',
            'identityStoreArn': 'VARCHAR',
        },
    }) }}
{% endmacro %}

{#- The request parameters that name the resource a call acts on (for assets and summaries). -#}
{% macro cloudtrail_resource_shape() %}
    {{ return({
        'bucketName': 'VARCHAR',
        'instanceId': 'VARCHAR',
        'instancesSet': {'items': [{'instanceId': 'VARCHAR'}]},
        'roleName': 'VARCHAR',
        'userName': 'VARCHAR',
        'groupName': 'VARCHAR',
        'groupId': 'VARCHAR',
        'policyArn': 'VARCHAR',
        'keyId': 'VARCHAR',
        'functionName': 'VARCHAR',
        'name': 'VARCHAR',
        'detectorId': 'VARCHAR',
        'dBInstanceIdentifier': 'VARCHAR',
        'secretId': 'VARCHAR',
    }) }}
{% endmacro %}
