-- SAML or OIDC identity provider created or changed

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in (
            'CreateSAMLProvider',
            'UpdateSAMLProvider',
            'CreateOpenIDConnectProvider',
            'UpdateOpenIDConnectProviderThumbprint',
            'AddClientIDToOpenIDConnectProvider'
        )

)

select * from final
