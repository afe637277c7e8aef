-- Enumeration with instance credentials

with

events as (

    select * from {{ detection_events() }}

),

instance_reads as (

    select * from events
    where
        principal_type = 'AssumedRole'
        and {{ regex_matches('principal_session_name', '^i-[0-9a-fA-F]{8,17}$') }}
        and read_only
        and {{ regex_matches('event_name', '^(Describe|List|Get)') }}

),

final as (

    {{ threshold_matches(
        'instance_reads',
        ['principal_arn'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 20),
        distinct='event_name'
    ) }}

)

select * from final
