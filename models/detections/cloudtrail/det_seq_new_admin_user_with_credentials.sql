-- New IAM user made administrator and given credentials

with

events as (

    select * from {{ detection_events() }}

),

created as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'CreateUser'
        and error_code is null

),

escalated as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and error_code is null
        and (
            (
                event_name = 'AttachUserPolicy'
                and {{ json_string('request_parameters', '$.policyArn') }}
                like '%:policy/AdministratorAccess'
            )
            or (
                event_name = 'AddUserToGroup'
                and lower({{ json_string('request_parameters', '$.groupName') }}) like '%admin%'
            )
        )

),

credentialed as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in ('CreateAccessKey', 'CreateLoginProfile')
        and error_code is null

),

final as (

    {{ sequence_matches([
        {'relation': 'created', 'key': json_string('{step}.request_parameters', '$.userName')},
        {'relation': 'escalated', 'key': json_string('{step}.request_parameters', '$.userName')},
        {'relation': 'credentialed', 'key': json_string('{step}.request_parameters', '$.userName')},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
