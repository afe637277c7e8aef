{#
    One mapping from the event shell to standard schemas: ECS (Elastic Common Schema) and OCSF
    (Open Cybersecurity Schema Framework) classes. Each entry becomes a view
    (`schema_view(name)`) whose columns are the standard's dotted field names, and a data test
    (`required_schema_fields`) on the fields marked required. A field is
    [name, SQL expression over `int_<source>__shell` columns, required?].
#}

{#- The OCSF class and category of a class: the first fields of every OCSF mapping. -#}
{% macro ocsf_class_fields(class_uid, class_name, category_uid, category_name) %}
    {{ return([
        ['class_uid', class_uid, true],
        ['class_name', "'" ~ class_name ~ "'", true],
        ['category_uid', category_uid, true],
        ['category_name', "'" ~ category_name ~ "'", true],
    ]) }}
{% endmacro %}


{#- OCSF `severity_id` of trailhouse's severity labels (info, low, medium, high, critical). -#}
{% macro ocsf_severity_id(severity) -%}
    case {{ severity }} when 'info' then 1 when 'low' then 2 when 'medium' then 3 when 'high' then 4 when 'critical' then 5 end
{%- endmacro %}


{% macro ocsf_common_fields(class_uid, class_name, category_uid, category_name) %}
    {{ return(ocsf_class_fields(class_uid, class_name, category_uid, category_name) + [
        ['time', epoch_milliseconds('event_time'), true],
        ['severity', 'severity', true],
        ['severity_id', "case severity when 'info' then 1 when 'low' then 2 when 'medium' then 3 "
            ~ "when 'high' then 4 when 'critical' then 5 end", true],
        ['status', "case outcome when 'success' then 'Success' else 'Failure' end", true],
        ['status_id', "case outcome when 'success' then 1 else 2 end", true],
        ['status_detail', 'error_code', false],
        ['message', 'summary', false],
        ['metadata.uid', 'event_id', true],
        ['metadata.version', "'1.1.0'", true],
        ['metadata.product.name', "'CloudTrail'", true],
        ['metadata.product.vendor_name', "'AWS'", true],
        ['metadata.logged_time', epoch_milliseconds('received_at'), false],
        ['src_endpoint.ip', 'source_ip', false],
        ['src_endpoint.domain', "case when source_ip is null then source_ip_address end", false],
        ['http_request.user_agent', 'user_agent', false],
        ['cloud.provider', "'AWS'", true],
        ['cloud.region', 'aws_region', true],
        ['cloud.account.uid', 'recipient_account_id', false],
        ['cloud.account.name', 'account_name', false],
        ['unmapped', 'details', false],
    ]) }}
{% endmacro %}


{% macro schema_mappings() %}
    {%- set api_activity_id -%}
        case
            when {{ regex_matches('event_name', '^(Create|Run|Start|Put|Add|Import|Issue|Register)') }}
                then 1
            when {{ regex_matches('event_name', '^(Get|List|Describe|Head|Lookup|Search|Batch[GL])') }}
                then 2
            when {{ regex_matches('event_name', '^(Update|Modify|Set|Attach|Enable|Associate|Tag)') }}
                then 3
            when {{ regex_matches('event_name', '^(Delete|Remove|Terminate|Detach|Disable|Untag)') }}
                then 4
            else 99
        end
    {%- endset -%}
    {%- set account_change_id -%}
        case
            when {{ regex_matches('event_name', '^(Attach|Put)(User|Role|Group)Policy$') }}
                or event_name = 'AddUserToGroup'
                then 7
            when {{ regex_matches('event_name', '^(Detach|Delete)(User|Role|Group)Policy$') }}
                or event_name = 'RemoveUserFromGroup'
                then 8
            when event_name in ('ChangePassword', 'UpdateLoginProfile') then 3
            when event_name = 'EnableMFADevice' then 10
            when event_name = 'DeactivateMFADevice' then 11
            when event_name like 'Create%' then 1
            when event_name like 'Delete%' then 6
            else 99
        end
    {%- endset -%}
    {{ return({
        'events_ecs': {
            'from': 'int_cloudtrail__shell',
            'where': 'true',
            'fields': [
                ['@timestamp', 'event_time', true],
                ['ecs.version', "'8.11.0'", true],
                ['event.id', 'event_id', true],
                ['event.kind', "'event'", true],
                ['event.category', list_of(["case category when 'authentication' then 'authentication' "
                    ~ "when 'iam' then 'iam' when 'network' then 'network' "
                    ~ "when 'storage' then 'file' when 'database' then 'database' "
                    ~ "when 'compute' then 'host' else 'configuration' end"]), true],
                ['event.action', 'event_name', true],
                ['event.provider', 'event_source', true],
                ['event.outcome', 'outcome', true],
                ['event.dataset', "'aws.cloudtrail'", true],
                ['event.module', "'aws'", true],
                ['event.severity', severity_rank('severity'), true],
                ['event.created', 'event_time', false],
                ['event.ingested', 'received_at', false],
                ['message', 'summary', false],
                ['source.ip', 'source_ip', false],
                ['source.address', 'source_ip_address', false],
                ['source.geo.country_iso_code', 'source_country', false],
                ['source.as.number', 'source_asn', false],
                ['user.name', 'principal_name', false],
                ['user.id', 'principal_id', false],
                ['user_agent.original', 'user_agent', false],
                ['cloud.provider', "'aws'", true],
                ['cloud.region', 'aws_region', true],
                ['cloud.account.id', 'recipient_account_id', false],
                ['cloud.account.name', 'account_name', false],
                ['cloud.service.name', 'event_source', true],
                ['error.code', 'error_code', false],
                ['error.message', 'error_message', false],
                ['related.ip', 'ips', false],
                ['tags', 'tags', false],
            ],
        },
        'ocsf_api_activity': {
            'from': 'int_cloudtrail__shell',
            'where': "event_type in ('AwsApiCall', 'AwsServiceEvent')",
            'fields': ocsf_common_fields('6003', 'API Activity', '6', 'Application Activity') + [
                ['activity_id', api_activity_id, true],
                ['type_uid', '600300 + ' ~ api_activity_id, true],
                ['api.operation', 'event_name', true],
                ['api.service.name', 'event_source', true],
                ['api.request.uid', 'request_id', false],
                ['actor.user.type', 'principal_type', false],
                ['actor.user.name', 'principal_name', false],
                ['actor.user.uid', 'coalesce(principal_arn, principal_id)', false],
                ['actor.user.account.uid', 'account_id', false],
                ['actor.invoked_by', 'invoked_by', false],
            ],
        },
        'ocsf_authentication': {
            'from': 'int_cloudtrail__shell',
            'where': "category = 'authentication'",
            'fields': ocsf_common_fields(
                '3002', 'Authentication', '3', 'Identity & Access Management') + [
                ['activity_id', '1', true],
                ['activity_name', "'Logon'", true],
                ['type_uid', '300201', true],
                ['is_mfa', 'session_mfa', false],
                ['user.type', 'principal_type', false],
                ['user.name', 'principal_name', false],
                ['user.uid', 'coalesce(principal_arn, principal_id)', false],
                ['user.account.uid', 'account_id', false],
                ['dst_endpoint.svc_name', 'event_source', true],
                ['auth_protocol', "case when event_name = 'ConsoleLogin' then 'Password' "
                    ~ "when event_name like 'AssumeRoleWithSAML%' then 'SAML' "
                    ~ "when event_name like 'AssumeRoleWithWebIdentity%' then 'OpenID' "
                    ~ "else 'AWS SigV4' end", false],
            ],
        },
        'ocsf_detection_finding': {
            'from': 'alerts',
            'where': 'true',
            'fields': ocsf_detection_finding_fields(),
        },
        'ocsf_account_change': {
            'from': 'int_cloudtrail__shell',
            'where': "event_source = 'iam.amazonaws.com' and " ~ regex_matches('event_name',
                '^(Create|Delete)(User|Role|AccessKey|LoginProfile)$'
                ~ '|^(Attach|Detach|Put|Delete)(User|Role|Group)Policy$'
                ~ '|^(AddUserTo|RemoveUserFrom)Group$|^(UpdateAccessKey|UpdateLoginProfile'
                ~ '|ChangePassword|EnableMFADevice|DeactivateMFADevice|UpdateAssumeRolePolicy)$'),
            'fields': ocsf_common_fields(
                '3001', 'Account Change', '3', 'Identity & Access Management') + [
                ['activity_id', account_change_id, true],
                ['type_uid', '300100 + ' ~ account_change_id, true],
                ['user.name', 'coalesce(resource_name, principal_name)', true],
                ['actor.user.type', 'principal_type', false],
                ['actor.user.name', 'principal_name', false],
                ['actor.user.uid', 'coalesce(principal_arn, principal_id)', false],
            ],
        },
    }) }}
{% endmacro %}


{% macro schema_view(name) -%}
    {%- set mapping = schema_mappings()[name] -%}
with

events as (

    select * from {{ ref(mapping['from']) }}
    where {{ mapping['where'] }}

),

final as (

    select
        {%- for field in mapping['fields'] %}
        {{ field[1] }} as {{ adapter.quote(field[0]) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from events

)

select * from final
{%- endmacro %}
