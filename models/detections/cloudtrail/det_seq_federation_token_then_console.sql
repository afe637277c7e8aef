-- Federation token, then console access with it

with

events as (

    select * from {{ detection_events() }}

),

token as (

    select * from events
    where
        event_source = 'sts.amazonaws.com'
        and event_name = 'GetFederationToken'
        and error_code is null

),

console as (

    select * from events
    where
        principal_type = 'FederatedUser'
        and event_name in ('GetSigninToken', 'ConsoleLogin')
        and error_code is null

),

final as (

    {{ sequence_matches([
        {'relation': 'token', 'key': json_string('{step}.request_parameters', '$.name')},
        {'relation': 'console',
         'key': regex_extract('{step}.principal_arn', ':federated-user/(.+)$', 1),
         'also': 'console.recipient_account_id = token.recipient_account_id'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
