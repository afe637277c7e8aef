{#
    Policy documents — IAM identity policies, role trust policies and resource policies (bucket,
    key, queue, topic, secret, repository, domain) — read statement by statement, so that a
    `Deny`, a statement a condition confines to an organization, account, network or calling
    service, and a grant to one of our own accounts are told apart from a statement that opens
    a resource. A grep over the whole document cannot tell them apart.

    `policy` is a SQL expression giving the document's JSON text: where CloudTrail keeps the
    policy as a string (IAM's `policyDocument`, KMS's `policy`, ECR's `policyText`) and where it
    keeps an object (S3's `bucketPolicy`) alike, `json_string(request_parameters, '$.<field>')`.
    `Statement` may be one object or a list; `Principal`, `AWS`, `Action` and `Resource` may be
    one value or a list (json_path_strings reads both).
#}

{#- Condition keys that confine a statement to some principals, whatever their values: an
    organization, an account, a network or endpoint, a source resource or calling service.
    (`sts:ExternalId` is not one: anyone who learns the id passes it.) -#}
{% macro policy_confining_condition_keys() %}
    {{ return([
        'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
        'aws:principalarn', 'aws:principalservicename', 'aws:sourceaccount', 'aws:sourcearn',
        'aws:sourceowner', 'aws:sourceorgid', 'aws:sourceorgpaths', 'aws:sourcevpce',
        'aws:sourcevpc', 'aws:sourceip', 'aws:vpcsourceip', 'aws:userid', 'aws:username',
        'aws:calledvia', 'aws:calledviafirst', 'aws:calledvialast', 'aws:viaawsservice',
        'kms:calleraccount', 'kms:viaservice',
    ]) }}
{% endmacro %}

{#- Condition keys that confine a statement to an organization (ours). -#}
{% macro policy_organization_condition_keys() %}
    {{ return([
        'aws:principalorgid', 'aws:principalorgpaths', 'aws:sourceorgid', 'aws:sourceorgpaths',
        'aws:resourceorgid', 'aws:resourceorgpaths',
    ]) }}
{% endmacro %}


{#- The statements of a policy, each as its JSON text. -#}
{% macro policy_statements(policy) -%}
    {{ json_path_strings(json_or_null(policy), ['Statement']) }}
{%- endmacro %}


{#- Whether the statement `statement` (its JSON text) allows. -#}
{% macro _statement_allows(statement) -%}
    coalesce({{ json_string(statement, '$.Effect') }} = 'Allow', false)
{%- endmacro %}

{#- Whether a condition key of `keys` appears in the statement's Condition (under any
    operator: StringEquals, ForAnyValue:StringLike, ...) and no value of the Condition lets
    everyone through: "*", "o-*" (any organization), 0.0.0.0/0 or ::/0 confine nothing. -#}
{% macro _statement_conditioned_on(statement, keys) -%}
    {%- set condition = "lower(coalesce(" ~ json_string(statement, '$.Condition') ~ ", ''))" -%}
    (
        {{ regex_matches(condition, '"(' ~ (keys | join('|')) ~ ')"') }}
        and not {{ regex_matches(condition, '"([*]|o-[*]|0[.]0[.]0[.]0/0|::/0)"') }}
    )
{%- endmacro %}

{#- Whether the statement names everyone: "Principal": "*", {"AWS": "*"} (or "*" in a list),
    or an Allow with NotPrincipal (everyone but the named). -#}
{% macro _statement_names_anyone(statement) -%}
    (
        {{ list_any(json_path_strings(statement, ['Principal']), 'principal', "principal = '*'") }}
        or {{ list_any(json_path_strings(statement, ['Principal', 'AWS']), 'principal', "principal = '*'") }}
        or {{ json_value(statement, '$.NotPrincipal') }} is not null
    )
{%- endmacro %}


{#- The policy allows anyone, with no condition confining who (policy_confining_condition_keys):
    a public resource or trust. -#}
{% macro policy_allows_anyone(policy) -%}
    {{ list_any(
        policy_statements(policy),
        'statement',
        _statement_allows('statement')
        ~ ' and ' ~ _statement_names_anyone('statement')
        ~ ' and not ' ~ _statement_conditioned_on('statement', policy_confining_condition_keys())
    ) }}
{%- endmacro %}


{#- The accounts (12-digit ids) the policy's Allow statements grant to: an AWS principal (an
    account id, or an IAM/STS ARN in that account), and for a statement without one (a service
    or "*" principal) a condition's account values (aws:SourceAccount, kms:CallerAccount, ...),
    which say whose requests the service or anyone may make. Statements confined to an
    organization are left out. May repeat an account; never NULL. -#}
{% macro policy_granted_accounts(policy) -%}
    {%- set principal_accounts = list_filter(
        list_transform(
            json_path_strings('statement', ['Principal', 'AWS']),
            'principal',
            regex_extract('principal', '^(arn:aws[a-z-]*:(iam|sts)::)?([0-9]{12})(:.*)?$', 3),
        ),
        'account',
        'account is not null',
    ) -%}
    {{ list_flat_map(
        list_filter(
            policy_statements(policy),
            'statement',
            _statement_allows('statement')
            ~ ' and not ' ~ _statement_conditioned_on('statement', policy_organization_condition_keys())
        ),
        'statement',
        list_concat([
            principal_accounts,
            list_filter(
                regex_extract_all(
                    "coalesce(" ~ json_string('statement', '$.Condition') ~ ", '')",
                    '"([0-9]{12})"',
                    1,
                ),
                'account',
                list_size(principal_accounts) ~ ' = 0',
            ),
        ])
    ) }}
{%- endmacro %}


{#- The policy allows every action on every resource ("Action": "*" or "*:*", or an Allow with
    NotAction: everything but the named), without a condition confining it. -#}
{% macro policy_grants_admin(policy) -%}
    {{ list_any(
        policy_statements(policy),
        'statement',
        _statement_allows('statement')
        ~ ' and (' ~ list_any(json_path_strings('statement', ['Action']), 'action', "action in ('*', '*:*')")
        ~ ' or ' ~ json_value('statement', '$.NotAction') ~ ' is not null)'
        ~ ' and ' ~ list_any(json_path_strings('statement', ['Resource']), 'resource', "resource = '*'")
        ~ ' and not ' ~ _statement_conditioned_on('statement', policy_confining_condition_keys())
    ) }}
{%- endmacro %}


{#- A one-row relation: `our_account_ids`, the inventory's accounts (seeds/inventory_accounts.csv)
    as a list (NULL when it lists none). Cross-join it to compare a policy's accounts with ours;
    a detection reading it gives `ref('inventory_accounts')` rows in its unit tests. -#}
{% macro our_accounts() -%}
    (select {{ sorted_set_agg('account_id') }} as our_account_ids from {{ ref('inventory_accounts') }})
{%- endmacro %}


{#- Of `accounts` (a list expression), those that are not ours: not `own_account` (an
    expression), not in `our_accounts` (a list expression: our_accounts().our_account_ids),
    and not an AWS log-delivery account. -#}
{% macro foreign_accounts(accounts, own_account, our_accounts) -%}
    {{ list_filter(
        accounts,
        'account',
        'account != ' ~ own_account
        ~ ' and account not in (' ~ sql_in_items(elb_log_delivery_accounts()) ~ ')'
        ~ ' and not ' ~ list_any(our_accounts, 'ours', 'ours = account')
    ) }}
{%- endmacro %}
