-- Instance metadata service v1 re-enabled

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'ec2.amazonaws.com'
        and event_name in ('ModifyInstanceMetadataOptions', 'ModifyInstanceMetadataDefaults')
        -- the parameters come bare or inside a ...Request object, depending on the API version
        and {{ regex_matches(
            'lower(' ~ json_text('request_parameters') ~ ')', '"httptokens"\\s*:\\s*"optional"'
        ) }}

)

select * from final
