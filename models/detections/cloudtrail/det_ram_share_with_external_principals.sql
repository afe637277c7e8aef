-- RAM resource share opened to external principals

with

events as (

    select * from {{ detection_events() }}

),

shares as (

    select
        events.*,
        -- the accounts the share names: an account id, or an IAM role or user ARN in one
        -- (an organization or OU is named by an ARN of the management account: not matched;
        -- RAM shares with those of our own organization only); ours (the event's account,
        -- the inventory's) are left out
        {{ foreign_accounts(
            list_filter(
                list_transform(
                    json_string_list('request_parameters', '$.principals[*]'),
                    'principal',
                    regex_extract('principal', '^(arn:aws[a-z-]*:iam::)?([0-9]{12})(:.*)?$', 2),
                ),
                'account',
                'account is not null',
            ),
            'events.recipient_account_id',
            'our_accounts.our_account_ids',
        ) }} as foreign_account_ids
    from events
    cross join {{ our_accounts() }} as our_accounts
    where
        events.event_source = 'ram.amazonaws.com'
        -- allowExternalPrincipals (true by default) only lets a share name accounts outside
        -- the organization: the share opens when one is named, here or on association
        and events.event_name in ('CreateResourceShare', 'AssociateResourceShare')
        and events.error_code is null

),

final as (

    select {{ star_except(['foreign_account_ids']) }} from shares
    where {{ list_size('foreign_account_ids') }} > 0

)

select * from final
