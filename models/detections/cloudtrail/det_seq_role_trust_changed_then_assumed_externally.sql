-- Role trust changed, then assumed from another account

with

events as (

    select * from {{ detection_events() }}

),

trust_changed as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'UpdateAssumeRolePolicy'
        and error_code is null

),

assumed as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'AssumeRole'
        and error_code is null
        and account_id != recipient_account_id

),

final as (

    {{ sequence_matches([
        {'relation': 'trust_changed',
         'key': json_string('{step}.request_parameters', '$.roleName')},
        {'relation': 'assumed',
         'key': regex_extract(
             json_string('{step}.request_parameters', '$.roleArn'), ':role/(?:.*/)?([^/]+)$', 1
         ),
         'also': 'assumed.recipient_account_id = trust_changed.recipient_account_id'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
