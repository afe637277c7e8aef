-- User added to a privileged IAM group

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'AddUserToGroup'
        and {{ regex_matches(
            'lower(' ~ json_string('request_parameters', '$.groupName') ~ ')',
            'admin|poweruser|root|security|break.?glass|privileged|owner'
        ) }}

)

select * from final
