-- RAM resource share opened to external principals

with

events as (

    select * from {{ detection_events() }}

),

shares as (

    select
        *,
        {{ json_string_list('request_parameters', '$.principals[*]') }} as principals
    from events
    where
        event_source = 'ram.amazonaws.com'
        and event_name in ('CreateResourceShare', 'UpdateResourceShare', 'AssociateResourceShare')
        and error_code is null

),

final as (

    select {{ star_except(['principals']) }} from shares
    where
        (
            event_name in ('CreateResourceShare', 'UpdateResourceShare')
            and {{ json_string('request_parameters', '$.allowExternalPrincipals') }} = 'true'
        )
        -- an account id, or an IAM role or user ARN, of another account (organizations and OUs
        -- are named by ARN of the management account: not matched)
        or {{ list_any(
            'principals',
            'principal',
            regex_extract('principal', '^(arn:aws[a-z-]*:iam::)?([0-9]{12})(:.*)?$', 2)
            ~ ' != recipient_account_id'
        ) }}

)

select * from final
