{{ config(enabled=is_enrichment_step('cloudtrail', 'int_cloudtrail__geoip')) }}

-- Country and ASN of public caller addresses, from the MaxMind database at TRAILHOUSE_GEOIP_DB
-- (GeoLite2/GeoIP2 Country or City, and ASN, or one database holding both). Without it the
-- columns are NULL and nothing else changes.

with

events as (

    select * from {{ enrichment_input('cloudtrail', 'int_cloudtrail__geoip') }}

),

final as (

    select
        *,
        {{ geoip_country('source_ip') }} as source_country,
        {{ geoip_asn('source_ip') }} as source_asn
    from events

)

select * from final
