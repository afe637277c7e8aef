-- Signing certificate, SSH key or service credential added to an IAM user

with

events as (

    select * from {{ detection_events() }}

),

final as (

    select * from events
    where
        event_source = 'iam.amazonaws.com'
        and event_name in (
            'UploadSigningCertificate', 'UploadSSHPublicKey', 'CreateServiceSpecificCredential'
        )

)

select * from final
