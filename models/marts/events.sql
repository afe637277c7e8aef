{{ config(materialized='view') }}

-- The event shell over every source: one row per event, the same columns whatever the source.
-- A new source adds its int_<source>__shell model and one more union here.

with

cloudtrail as (

    select * from {{ ref('int_cloudtrail__shell') }}

),

http_access_log as (

    select * from {{ ref('int_web__shell') }}

),

unioned as (

    {% for relation in ['cloudtrail', 'http_access_log'] %}
        select
            event_id,
            event_time,
            received_at,
            source,
            category,
            severity,
            summary,
            tags,
            details,
            year,
            month,
            day,
            hour,
            principal_name,
            source_ip,
            ips,
            account_name,
            outcome
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
