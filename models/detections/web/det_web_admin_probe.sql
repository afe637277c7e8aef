-- One client probing several administrative or sensitive paths that it may not open

with

requests as (

    select * from {{ web_detection_events() }}

),

probes as (

    select * from requests
    where
        status in (401, 403, 404)
        and {{ regex_matches(
            'lower(path)',
            '^/(wp-admin|wp-login[.]php|phpmyadmin|pma|admin|administrator|manager/html|'
            ~ 'server-status|actuator|[.]env|[.]git/|[.]aws/|config[.]php|xmlrpc[.]php|cgi-bin/)'
        ) }}

),

final as (

    {{ threshold_matches(
        'probes',
        ['client_ip'],
        minutes=detection_param('minutes', 10),
        at_least=detection_param('at_least', 3),
        distinct='path'
    ) }}

)

select * from final
