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
    wildcards ("*", "o-*": a trailing "/*" of an organization path is fine; `value`, a regex
    for one quoted value, says otherwise) and no condition value opening every address
    (0.0.0.0/0, ::/0). -#}
{% macro _statement_conditioned_on(statement, keys, value='"[^"*?]*(/[*])?"') -%}
    {%- set condition = "lower(coalesce(" ~ json_string(statement, '$.Condition') ~ ", ''))" -%}
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
    an IAM or STS ARN whose account is a wildcard ("arn:aws:iam::*:root",
    "arn:aws:iam::*:role/x": that name in every account, anyone's to create), or an Allow with
    NotPrincipal (everyone but the named). -#}
{% macro _statement_names_anyone(statement) -%}
    (
        {{ list_any(json_path_strings(statement, ['Principal']), 'principal', "principal = '*'") }}
        or {{ list_any(
            json_path_strings(statement, ['Principal', 'AWS']),
            'principal',
            "principal = '*' or " ~ regex_matches('principal', '^arn:[^:]*:(iam|sts)::[^:]*[*?]'),
        ) }}
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


{#- Condition keys that say which identity of a web identity provider (OIDC, Cognito, Login
    with Amazon, Facebook, Google) assumes the role: the token's subject (`<provider>:sub`:
    the repository, project, service account or user) or, for the providers where it is the
    role owner's own application, its audience (a Cognito identity pool, a Google client id,
    a Facebook or Amazon app id). Another provider's `:aud` is not one: GitHub's, GitLab's or
    Terraform Cloud's is a constant (sts.amazonaws.com) or chosen by whoever asks for the token.
    Keys are regex alternatives matched on the lowercased condition. -#}
{% macro policy_federated_identity_condition_keys() %}
    {{ return([
        '[^"]+:sub', 'cognito-identity[.]amazonaws[.]com:aud', 'accounts[.]google[.]com:(aud|oaud)',
        'graph[.]facebook[.]com:(app_id|id)', 'www[.]amazon[.]com:(app_id|user_id)',
    ]) }}
{% endmacro %}


{#- The role trust policy lets any identity of a web identity provider assume the role: an
    Allow to a Federated principal that is not a SAML provider (an `oidc-provider/` ARN such
    as token.actions.githubusercontent.com, or cognito-identity.amazonaws.com,
    accounts.google.com, graph.facebook.com, www.amazon.com; or "*") for
    sts:AssumeRoleWithWebIdentity (or a wildcard, or a NotAction not naming it), with no condition
    that must match on a policy_federated_identity_condition_keys() key. A subject value must
    pin an owner: a literal, or a wildcard only after a second segment ("repo:org/*",
    "repo:org/repo:*", "organization:org:*", "system:serviceaccount:ns:*"); "*", "repo:*" or
    "repo:org*" let any GitHub user, any Terraform organization, in. Without it every GitHub
    repository (every GitLab project, every Cognito identity pool in any account) gets the
    role's credentials. A SAML provider is the account's own identity provider: not read. -#}
{% macro policy_trusts_any_federated_identity(policy) -%}
    {%- set owner_value = '"([^"*?]*|[^"*?:/]+[:/][^"*?:/]+[:/][^"]*)"' -%}
    {%- set covers_web_identity = "'sts:assumerolewithwebidentity' like "
        ~ "replace(replace(lower(action), '*', '%'), '?', '_')" -%}
    {{ list_any(
        policy_statements(policy),
        'statement',
        _statement_allows('statement')
        ~ ' and ' ~ list_any(json_path_strings('statement', ['Principal', 'Federated']), 'provider',
            'not ' ~ regex_matches('lower(provider)', ':saml-provider/'))
        ~ ' and (' ~ list_any(json_path_strings('statement', ['Action']), 'action', covers_web_identity)
        ~ ' or (' ~ json_string('statement', '$.NotAction') ~ ' is not null and not '
        ~ list_any(json_path_strings('statement', ['NotAction']), 'action', covers_web_identity)
        ~ '))'
        ~ ' and not ' ~ _statement_conditioned_on(
            'statement', policy_federated_identity_condition_keys(), owner_value)
    ) }}
{%- endmacro %}


{#- The accounts (12-digit ids) the policy's Allow statements grant to: an AWS principal (an
    account id, or an IAM/STS ARN in that account), and for a statement without one (a service
    or "*" principal) a condition's account values (aws:SourceAccount, kms:CallerAccount, ...),
    which say whose requests the service or anyone may make. Statements confined to an
    organization are left out. May repeat an account; never NULL.

    An identity that names no account is given as its own text, which is never one of ours, so
    foreign_accounts() keeps it: a CanonicalUser ("CanonicalUser:<64 hex>") and a CloudFront
    origin access identity ("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity
    E…", the form S3 rewrites an OAI's canonical user to). Nothing in the policy or the event
    says whose it is: an account's canonical id and an OAI's look alike, an OAI serves every
    distribution of the account that made it, and anyone can make one and name it in our
    bucket's policy to read the bucket through their own distribution. Only a condition
    confining the statement to our organization (which such an identity never passes) makes
    it no grant. A "*" principal or one in a wildcard account ("arn:aws:iam::*:root") names
    no account either: that is policy_allows_anyone(). -#}
{% macro policy_granted_accounts(policy) -%}
    {%- set principal_accounts = list_concat([
        list_filter(
            list_transform(
                json_path_strings('statement', ['Principal', 'AWS']),
                'principal',
                'case when ' ~ regex_matches('principal', '^arn:aws[a-z-]*:iam::cloudfront:user/')
                ~ ' then principal else '
                ~ regex_extract('principal', '^(arn:aws[a-z-]*:(iam|sts)::)?([0-9]{12})(:.*)?$', 3)
                ~ ' end',
            ),
            'account',
            'account is not null',
        ),
        list_transform(
            json_path_strings('statement', ['Principal', 'CanonicalUser']),
            'principal',
            "'CanonicalUser:' || principal",
        ),
    ]) -%}
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
