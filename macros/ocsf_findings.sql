{#
    OCSF 1.1.0 Detection Finding (class 2004, category 2 Findings, activity 1 Create) of an
    alert: the field list `schema_mappings()['ocsf_detection_finding']` uses. Objects are
    flat columns named by their OCSF path (`finding_info.analytic.uid`); arrays of objects
    (`evidences`, `resources`, `observables`, `finding_info.attacks`) are lists of structs
    built with the cross-engine macros, so the view builds on DuckDB and Spark alike. Every
    NULL inside a struct is cast to its type: an untyped NULL is a column of no type, which
    Parquet cannot store.
#}

{#- trailhouse's version, for `metadata.product.version`; a Python test holds it equal to
    `ingest.__version__` (dbt's Jinja does not see the project's version). -#}
{% macro trailhouse_version() %}
    {{ return('0.1.0') }}
{% endmacro %}


{#- ATT&CK Enterprise tactics: trailhouse's lower-case hyphenated name -> (id, name). -#}
{% macro attack_tactics() %}
    {{ return({
        'reconnaissance': ['TA0043', 'Reconnaissance'],
        'resource-development': ['TA0042', 'Resource Development'],
        'initial-access': ['TA0001', 'Initial Access'],
        'execution': ['TA0002', 'Execution'],
        'persistence': ['TA0003', 'Persistence'],
        'privilege-escalation': ['TA0004', 'Privilege Escalation'],
        'defense-evasion': ['TA0005', 'Defense Evasion'],
        'credential-access': ['TA0006', 'Credential Access'],
        'discovery': ['TA0007', 'Discovery'],
        'lateral-movement': ['TA0008', 'Lateral Movement'],
        'collection': ['TA0009', 'Collection'],
        'command-and-control': ['TA0011', 'Command and Control'],
        'exfiltration': ['TA0010', 'Exfiltration'],
        'impact': ['TA0040', 'Impact'],
    }) }}
{% endmacro %}


{#- The OCSF tactic object of a trailhouse tactic name `tactic` (an unknown name keeps its
    text as the name, with no uid). -#}
{% macro _ocsf_tactic(tactic) -%}
    {{ struct_of({
        'uid': 'case ' ~ tactic ~ ' ' ~ _tactic_case(0) ~ ' end',
        'name': 'coalesce(case ' ~ tactic ~ ' ' ~ _tactic_case(1) ~ ' end, ' ~ tactic ~ ')',
    }) }}
{%- endmacro %}

{% macro _tactic_case(index) -%}
    {%- for name, ids in attack_tactics().items() -%}
        when {{ sql_string(name) }} then {{ sql_string(ids[index]) }}{{ ' ' }}
    {%- endfor -%}
    else cast(null as string)
{%- endmacro %}


{#- One OCSF attack object: technique `technique` (an id, `T1562.008`, or a NULL string),
    the alert's first tactic as `tactic` and all of them as `tactics`. -#}
{% macro _ocsf_attack(technique) -%}
    {{ struct_of({
        'tactic': _ocsf_tactic(list_first('mitre_tactics')),
        'tactics': list_transform('mitre_tactics', 'tactic_name', _ocsf_tactic('tactic_name')),
        'technique': struct_of({
            'uid': regex_extract(technique, '^T[0-9]+'),
            'name': 'cast(null as string)',
        }),
        'sub_technique': struct_of({
            'uid': 'case when ' ~ technique ~ " like 'T%.%' then " ~ technique ~ ' end',
            'name': 'cast(null as string)',
        }),
        'version': 'cast(null as string)',
    }) }}
{%- endmacro %}


{#- One OCSF observable. -#}
{% macro _ocsf_observable(name, type_id, type_name, value) -%}
    {{ struct_of({
        'name': name,
        'type_id': type_id,
        'type': type_name,
        'value': value,
    }) }}
{%- endmacro %}


{#- The observables of a list `values` (each `item`), named `name`, of one type. -#}
{% macro _ocsf_observables(values, name, type_id, type_name) -%}
    {{ list_transform(values, 'item', _ocsf_observable(sql_string(name), type_id, sql_string(type_name), 'item')) }}
{%- endmacro %}


{#- `address` looks like an IP address (callers' addresses are kept as CloudTrail wrote them:
    a service's name, `AWS Internal`, or an address). -#}
{% macro _looks_like_ip(address) -%}
    {{ regex_matches(address, '^([0-9]{1,3}[.]){3}[0-9]{1,3}$|^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$') }}
{%- endmacro %}


{% macro ocsf_detection_finding_fields() %}
    {%- set is_arn = "like 'arn:%'" -%}
    {#- ATT&CK: one attack per technique; an alert with tactics but no technique has one
        attack for its first tactic (OCSF wants a tactic or a technique in each). -#}
    {%- set attacks = list_filter(
        list_concat([
            list_transform('mitre_techniques', 'technique_id', _ocsf_attack('technique_id')),
            list_of([_ocsf_attack('cast(null as string)')]),
        ]),
        'attack',
        'attack.technique.uid is not null or (coalesce(' ~ list_size('mitre_techniques')
            ~ ', 0) <= 0 and coalesce(' ~ list_size('mitre_tactics') ~ ', 0) > 0)',
    ) -%}
    {#- The alert's first event, as OCSF evidence: who, from where, with which key. -#}
    {%- set evidence = struct_of({
        'actor': struct_of({
            'user': struct_of({
                'uid': 'principal_arn',
                'account': struct_of({'uid': 'account_id'}),
            }),
            'session': struct_of({'credential_uid': list_first('access_key_ids')}),
        }),
        'src_endpoint': struct_of({
            'ip': 'case when ' ~ _looks_like_ip('source_ip_address') ~ ' then source_ip_address end',
            'domain': 'case when not ' ~ _looks_like_ip('source_ip_address')
                ~ ' then source_ip_address end',
        }),
    }) -%}
    {%- set resources = list_transform('resources', 'resource', struct_of({
        'uid': 'case when resource ' ~ is_arn ~ ' then resource end',
        'name': 'resource',
        'region': 'aws_region',
    })) -%}
    {%- set observables = list_concat([
        list_transform('source_ips', 'address', _ocsf_observable(
            'case when ' ~ _looks_like_ip('address')
                ~ " then 'evidences.src_endpoint.ip' else 'evidences.src_endpoint.domain' end",
            'case when ' ~ _looks_like_ip('address') ~ ' then 2 else 1 end',
            'case when ' ~ _looks_like_ip('address') ~ " then 'IP Address' else 'Hostname' end",
            'address',
        )),
        list_filter(
            list_of([_ocsf_observable(
                "'evidences.actor.user.uid'", '10', "'Resource UID'", 'principal_arn')]),
            'principal', 'principal.value is not null',
        ),
        _ocsf_observables(
            list_filter('resources', 'resource', 'resource ' ~ is_arn),
            'resources.uid', '10', 'Resource UID'),
        _ocsf_observables('access_key_ids', 'unmapped.access_key_ids', '99', 'Other'),
        _ocsf_observables('user_agents', 'unmapped.user_agents', '99', 'Other'),
    ]) -%}
    {{ return(ocsf_class_fields('2004', 'Detection Finding', '2', 'Findings') + [
        ['activity_id', '1', true],
        ['activity_name', "'Create'", true],
        ['type_uid', '200401', true],
        ['type_name', "'Detection Finding: Create'", true],
        ['time', epoch_milliseconds('first_seen_at'), true],
        ['start_time', epoch_milliseconds('first_seen_at'), false],
        ['end_time', epoch_milliseconds('last_seen_at'), false],
        ['count', 'event_count', false],
        ['severity_id', ocsf_severity_id('severity'), true],
        ['severity', "case severity when 'info' then 'Informational' when 'low' then 'Low' "
            ~ "when 'medium' then 'Medium' when 'high' then 'High' "
            ~ "when 'critical' then 'Critical' end", true],
        ['status_id', 'case when suppressed then 3 else 1 end', true],
        ['status', "case when suppressed then 'Suppressed' else 'New' end", true],
        ['message', 'summary', false],
        ['metadata.uid', 'alert_id', true],
        ['metadata.version', "'1.1.0'", true],
        ['metadata.product.name', "'trailhouse'", true],
        ['metadata.product.vendor_name', "'trailhouse'", true],
        ['metadata.product.version', sql_string(trailhouse_version()), true],
        ['finding_info.uid', 'alert_id', true],
        ['finding_info.title', 'coalesce(title, detection_id)', true],
        ['finding_info.desc', 'summary', false],
        ['finding_info.src_url', 'runbook', false],
        ['finding_info.first_seen_time', epoch_milliseconds('first_seen_at'), true],
        ['finding_info.last_seen_time', epoch_milliseconds('last_seen_at'), true],
        ['finding_info.analytic.uid', 'detection_id', true],
        ['finding_info.analytic.name', 'coalesce(title, detection_id)', true],
        ['finding_info.analytic.type_id', '1', true],
        ['finding_info.analytic.type', "'Rule'", true],
        ['finding_info.attacks', attacks, false],
        ['finding_info.related_events',
            list_transform('event_ids', 'related_event_id', struct_of({'uid': 'related_event_id'})),
            false],
        ['cloud.provider', "case when account_id is not null or aws_region is not null then 'AWS' end",
            false],
        ['cloud.region', 'aws_region', false],
        ['cloud.account.uid', 'account_id', false],
        ['evidences', list_of([evidence]), true],
        ['resources', resources, false],
        ['observables', observables, false],
        ['unmapped.dedup_key', 'dedup_key', false],
        ['unmapped.severity_reason', 'severity_reason', false],
        ['unmapped.principal_owner', 'principal_owner', false],
        ['unmapped.principal_team', 'principal_team', false],
        ['unmapped.event_names', 'event_names', false],
        ['unmapped.access_key_ids', 'access_key_ids', false],
        ['unmapped.user_agents', 'user_agents', false],
        ['unmapped.error_codes', 'error_codes', false],
    ]) }}
{% endmacro %}
