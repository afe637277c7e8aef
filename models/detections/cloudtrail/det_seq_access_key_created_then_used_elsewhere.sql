-- Access key created, then used from another address

with

events as (

    select * from {{ detection_events() }}

),

created as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name = 'CreateAccessKey'
        and error_code is null

),

used as (

    select * from events
    where
        access_key_id is not null
        and source_ip_address is not null

),

final as (

    {{ sequence_matches([
        {'relation': 'created',
         'key': json_string('{step}.response_elements', '$.accessKey.accessKeyId')},
        {'relation': 'used', 'key': 'access_key_id',
         'also': 'used.source_ip_address != created.source_ip_address'},
    ], within_minutes=detection_param('within_minutes', 60)) }}

)

select * from final
