-- ECS task role credentials used from outside AWS

{# How far back a call looks for the evidence that ECS issued its session: at most what a
    day's alerts read of the day before (var detection_lookback_minutes), so a day's matches do
    not depend on when it was built. -#}
{%- set within_minutes = detection_param(
    'issued_within_minutes', var('detection_lookback_minutes', 60)) -%}
{%- do check_within_lookback(within_minutes, 'look-back for the issuing of a session') -%}
{%- set within_ms = within_minutes * 60000 -%}

with

events as (

    select * from {{ detection_events() }}

),

-- calls with a role session from a public address that no known network holds (AWS's own
-- published ranges are a known network: a task calling from its own address is not here)
outside_calls as (

    select * from events
    where
        principal_type = 'AssumedRole'
        and access_key_id is not null
        and source_ip_class = 'public'
        and source_network_name is null
        -- not the runtime's own SDK: until AWS's ranges are loaded its addresses are unnamed
        and not {{ regex_matches("coalesce(user_agent, '')", 'exec-env/AWS_ECS_') }}

),

-- ECS assuming a task's role: the session (named after the task id) and its access key
issued as (

    select
        event_time,
        {{ json_string('response_elements', '$.credentials.accessKeyId') }} as issued_key,
        {{ json_string('request_parameters', '$.roleArn') }} as role_arn,
        {{ json_string('request_parameters', '$.roleSessionName') }} as session_name
    from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'AssumeRole'
        and error_code is null
        and principal_type = 'AWSService'
        and invoked_by = 'ecs-tasks.amazonaws.com'

),

-- calls a task's code made (the SDKs name the ECS launch type in their user agent)
used_in_ecs as (

    select
        event_time,
        access_key_id
    from events
    where
        principal_type = 'AssumedRole'
        and access_key_id is not null
        and {{ regex_matches('user_agent', 'exec-env/AWS_ECS_') }}

),

final as (

    select * from outside_calls
    where
        -- ECS issued the session shortly before
        exists (
            select 1 from issued
            where
                (
                    issued.issued_key = outside_calls.access_key_id
                    or (
                        issued.role_arn = outside_calls.session_issuer_arn
                        and issued.session_name = outside_calls.principal_session_name
                    )
                )
                and issued.event_time <= outside_calls.event_time
                and {{ epoch_milliseconds('issued.event_time') }}
                >= {{ epoch_milliseconds('outside_calls.event_time') }} - {{ within_ms }}
        )
        -- or the same access key was used by a task's code shortly before
        or exists (
            select 1 from used_in_ecs
            where
                used_in_ecs.access_key_id = outside_calls.access_key_id
                and used_in_ecs.event_time <= outside_calls.event_time
                and {{ epoch_milliseconds('used_in_ecs.event_time') }}
                >= {{ epoch_milliseconds('outside_calls.event_time') }} - {{ within_ms }}
        )

)

select * from final
