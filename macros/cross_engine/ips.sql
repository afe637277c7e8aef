{#
    IP addresses: extraction from text, normalization, and classification.

    An IPv4 literal is a maximal run of digits and dots that is exactly a dotted quad of
    octets 0-255 without leading zeros ("01.2.3.4" is ambiguous: octal to some parsers).
    An IPv6 literal is a maximal run of letters, digits, colons and dots with at least two
    colons that is exactly an IPv6 address (so "12:34:56" times, "T06:14:05Z" timestamps and
    ARNs such as "arn:aws:iam::aws:policy/x" are not addresses: a letter outside a-f, or a
    stray colon, disqualifies the whole run). Candidates are normalized: IPv6 compressed lower-case (RFC 5952), IPv4-mapped
    IPv6 ("::ffff:1.2.3.4") to the IPv4 address. User agents are never searched: version
    numbers such as "Chrome/128.0.0.0" look like addresses.
#}

{% macro ipv4_pattern() -%}
    {%- set octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])' -%}
    {{- octet ~ '([.]' ~ octet ~ '){3}' -}}
{%- endmacro %}


{% macro extract_ips(documents, source_ip) %}
    {{ return(adapter.dispatch('extract_ips', 'trailhouse')(documents, source_ip)) }}
{% endmacro %}

{% macro duckdb__extract_ips(documents, source_ip) -%}
    {%- set text -%}
        concat_ws(' ', {% for doc in documents %}{{ doc }}{{ ', ' if not loop.last }}{% endfor %})
    {%- endset -%}
    list_sort(list_distinct(list_filter(
        list_transform(
            list_concat(
                regexp_extract_all({{ text }}, '[0-9]+([.][0-9]+){3,}'),
                regexp_extract_all({{ text }}, '[0-9A-Za-z:.]*:[0-9A-Za-z:.]*:[0-9A-Za-z:.]*'),
                [{{ source_ip }}]
            ),
            candidate -> {{ normalize_ip('candidate') }}
        ),
        ip -> ip is not null
    )))
{%- endmacro %}


{#- The normalized text of an IP literal, or NULL if `expression` is not exactly one. -#}
{% macro normalize_ip(expression) %}
    {{ return(adapter.dispatch('normalize_ip', 'trailhouse')(expression)) }}
{% endmacro %}

{% macro duckdb__normalize_ip(expression) -%}
    {#- list_transform([x], v -> ...)[1] binds a name, so each step is computed once. -#}
    case
        when regexp_full_match({{ expression }}, '{{ ipv4_pattern() }}')
            then {{ expression }}
        when regexp_full_match({{ expression }}, '[0-9A-Fa-f:.]+')
            and contains({{ expression }}, ':')
            {#- inet forgives one stray colon at either end; an address has none -#}
            and not regexp_matches({{ expression }}, '^:[^:]|[^:]:$')
            and (
                not contains({{ expression }}, '.')
                or regexp_full_match({{ expression }}, '.*:{{ ipv4_pattern() }}')
            )
            then list_transform(
                {#- 1. a dotted IPv4 tail becomes two hex groups, so inet checks the group count -#}
                [{{ _ipv6_hex_tail(expression) }}],
                {#- 2. parse and print compressed lower-case; IPv4-mapped becomes IPv4 -#}
                hex_form -> list_transform(
                    [host(try_cast(hex_form as inet))],
                    printed -> case
                        when regexp_full_match(printed, '::ffff:{{ ipv4_pattern() }}')
                            then substr(printed, 8)
                        {#- inet prints other IPv4-embedding forms dotted; RFC 5952 says hex -#}
                        when contains(printed, '.')
                            then {{ _ipv6_hex_tail('printed', compress=true) }}
                        else printed
                    end
                )[1]
            )[1]
    end
{%- endmacro %}


{#- `expression` with a dotted IPv4 tail rewritten as two hex groups (unchanged without one).
    With `compress`, a zero high group right after "::" is folded into it, as RFC 5952 does. -#}
{% macro _ipv6_hex_tail(expression, compress=false) -%}
    case
        when contains({{ expression }}, '.')
            then list_transform(
                [string_split(regexp_extract({{ expression }}, '[0-9.]+$'), '.')],
                q -> list_transform(
                    [regexp_replace({{ expression }}, '[0-9.]+$', '')],
                    head -> case
                        {%- if compress %}
                        when ends_with(head, '::') and q[1]::int = 0 and q[2]::int = 0
                            then head || printf('%x', q[3]::int * 256 + q[4]::int)
                        {%- endif %}
                        when true
                            then head || printf(
                                '%x:%x', q[1]::int * 256 + q[2]::int, q[3]::int * 256 + q[4]::int
                            )
                    end
                )[1]
            )[1]
        else {{ expression }}
    end
{%- endmacro %}


{#- True when the address `ip` (normalized text) lies in the network `cidr` (text). -#}
{% macro ip_in_cidr(ip, cidr) %}
    {{ return(adapter.dispatch('ip_in_cidr', 'trailhouse')(ip, cidr)) }}
{% endmacro %}

{% macro duckdb__ip_in_cidr(ip, cidr) -%}
    {#- the `<<=` operator of the inet extension, called by name so SQL linters can parse it -#}
    "<<="(try_cast({{ ip }} as inet), try_cast({{ cidr }} as inet))
{%- endmacro %}


{#- Prefix length of a CIDR (text), to prefer the most specific of overlapping networks. -#}
{% macro cidr_prefix_length(cidr) -%}
    coalesce(
        try_cast(nullif(split_part({{ cidr }}, '/', 2), '') as integer),
        case when contains({{ cidr }}, ':') then 128 else 32 end
    )
{%- endmacro %}
