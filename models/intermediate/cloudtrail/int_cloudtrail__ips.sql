{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__ips')) }}

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__ips') }}

),

address_classes as (

    select * from {{ ref('ip_address_classes') }}

),

addressed as (

    select
        *,
        {{ normalize_ip('source_ip_address') }} as source_ip,
        {{ extract_ips(
            [
                json_text('user_identity'),
                json_text('request_parameters'),
                json_text('response_elements'),
                json_text('additional_event_data'),
                json_text('resources'),
                json_text('service_event_details'),
                'error_message',
            ],
            'source_ip_address',
        ) }} as ips
    from events

),

final as (

    select
        *,
        case
            when
                source_ip_address = 'AWS Internal'
                or lower(source_ip_address) like '%.amazonaws.com'
                then 'aws_service'
            when source_ip is not null
                then coalesce(
                    (
                        -- the most specific range containing the address
                        select
                            max_by(
                                address_classes.ip_class,
                                {{ cidr_prefix_length('address_classes.cidr') }}
                            )
                        from address_classes
                        where {{ ip_in_cidr('addressed.source_ip', 'address_classes.cidr') }}
                    ),
                    'public'
                )
        end as source_ip_class
    from addressed

)

select * from final
