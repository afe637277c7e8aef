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

{#- Condition keys that confine a statement to some principals: an organization, an account,
    a principal, a network or endpoint, a source resource. (`sts:ExternalId` is not one: anyone
    who learns the id passes it; nor are kms:ViaService or aws:CalledVia, which say through
    which service, not who.) -#}
{% macro policy_confining_condition_keys() %}
    {{ return([
        'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
        'aws:principalarn', 'aws:principalservicename', 'aws:sourceaccount', 'aws:sourcearn',
        'aws:sourceowner', 'aws:sourceorgid', 'aws:sourceorgpaths', 'aws:sourcevpce',
        'aws:sourcevpc', 'aws:sourceip', 'aws:vpcsourceip', 'aws:userid', 'aws:username',
        'kms:calleraccount',
    ]) }}
{% endmacro %}

{#- Condition keys that confine a statement's principals to an organization (aws:ResourceOrgID
    is not one: in our own resource's policy it always holds). -#}
{% macro policy_organization_condition_keys() %}
    {{ return([
        'aws:principalorgid', 'aws:principalorgpaths', 'aws:sourceorgid', 'aws:sourceorgpaths',
    ]) }}
{% endmacro %}


{#- The statements of a policy, each as its JSON text; an element that is not a JSON object (a
    bare string in a logged, rejected document) is no statement. -#}
{% macro policy_statements(policy) -%}
    {{ list_filter(
        json_path_strings(json_or_null(policy), ['Statement']),
        'statement',
        "left(statement, 1) = '{' and " ~ json_or_null('statement') ~ ' is not null',
    ) }}
{%- endmacro %}


{#- Whether the statement `statement` (its JSON text) allows. -#}
{% macro _statement_allows(statement) -%}
    coalesce({{ json_string(statement, '$.Effect') }} = 'Allow', false)
{%- endmacro %}

{#- Whether the statement's Condition confines it with a key of `keys`: the key under an
    operator that must match (StringEquals, StringLike, ArnEquals, ArnLike, IpAddress, or their
    ForAnyValue: forms; not a Not…, …IfExists, Null, Bool or ForAllValues: operator, which let
    through requests without the key or with other values), with values that are not
    wildcards ("*", "o-*": a trailing "/*" of an organization path is fine) and no condition
    value opening every address (0.0.0.0/0, ::/0). -#}
{% macro _statement_conditioned_on(statement, keys) -%}
    {%- set condition = "lower(coalesce(" ~ json_string(statement, '$.Condition') ~ ", ''))" -%}
    {%- set value = '"[^"*?]*(/[*])?"' -%}
    (
        {{ regex_matches(
            condition,
            '"(foranyvalue:)?(stringequals|stringequalsignorecase|stringlike|arnequals|arnlike'
            ~ '|ipaddress)"\\s*:\\s*[{][^{}]*"(' ~ (keys | join('|')) ~ ')"\\s*:\\s*('
            ~ value ~ '|\\[\\s*' ~ value ~ '(\\s*,\\s*' ~ value ~ ')*\\s*\\])'
        ) }}
        and not {{ regex_matches(condition, '"(0[.]0[.]0[.]0/0|::/0)"') }}
    )
{%- endmacro %}

{#- Whether the statement names everyone: "Principal": "*", {"AWS": "*"} (or "*" in a list),
    or an Allow with NotPrincipal (everyone but the named). -#}
{% macro _statement_names_anyone(statement) -%}
    (
        {{ list_any(json_path_strings(statement, ['Principal']), 'principal', "principal = '*'") }}
        or {{ list_any(json_path_strings(statement, ['Principal', 'AWS']), 'principal', "principal = '*'") }}
        or {{ json_string(statement, '$.NotPrincipal') }} is not null
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


{#- The policy allows every action on every resource, or IAM's every action (which grants the
    rest): an Action of "*", "*:*" or "iam:*" (or a NotAction: everything but the named) on a
    Resource of "*" or "arn:*" (or a NotResource). For an identity policy a condition narrows
    when the grant applies, not who holds it: conditions are not read. -#}
{% macro policy_grants_admin(policy) -%}
    {{ list_any(
        policy_statements(policy),
        'statement',
        _statement_allows('statement')
        ~ ' and (' ~ list_any(json_path_strings('statement', ['Action']), 'action',
            "lower(action) in ('*', '*:*', 'iam:*')")
        ~ ' or ' ~ json_string('statement', '$.NotAction') ~ ' is not null)'
        ~ ' and (' ~ list_any(json_path_strings('statement', ['Resource']), 'resource',
            "resource in ('*', 'arn:*')")
        ~ ' or ' ~ json_string('statement', '$.NotResource') ~ ' is not null)'
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
