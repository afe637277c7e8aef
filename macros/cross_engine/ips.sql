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


{% macro extract_ips(documents, source_ip) -%}
    {%- set text = "concat_ws(' ', " ~ documents | join(', ') ~ ")" -%}
    {{ list_sort_distinct(list_filter(
        list_transform(
            list_concat([
                regex_extract_all(text, '[0-9]+([.][0-9]+){3,}'),
                regex_extract_all(text, '[0-9A-Za-z:.]*:[0-9A-Za-z:.]*:[0-9A-Za-z:.]*'),
                list_of([source_ip]),
            ]),
            'candidate',
            normalize_ip('candidate'),
        ),
        'ip',
        'ip is not null',
    )) }}
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


{#- Spark has no IP type: addresses are checked and normalized with text and array functions,
    to the same text DuckDB's inet prints. -#}

{#- The eight hex groups of an IPv6 address in text without a dotted tail, `::` expanded;
    an address with a bad `::` gives a list of another size. -#}
{% macro _spark_ipv6_groups(text) -%}
    case
        when {{ text }} like '%:::%'
            then array()
        when {{ text }} like '%::%'
            then element_at(transform(
                array(split({{ text }}, '::', -1)),
                halves -> element_at(transform(
                    array(struct(
                        filter(split(halves[0], ':'), g -> g != '') as head,
                        filter(split(try_element_at(halves, 2), ':'), g -> g != '') as tail
                    )),
                    parts -> case
                        when size(halves) = 2 and size(parts.head) + size(parts.tail) <= 7
                            then concat(
                                parts.head,
                                array_repeat('0', 8 - size(parts.head) - size(parts.tail)),
                                parts.tail
                            )
                        else array()
                    end
                ), 1)
            ), 1)
        else split({{ text }}, ':')
    end
{%- endmacro %}

{% macro spark__normalize_ip(expression) -%}
    case
        when {{ expression }} rlike '^{{ ipv4_pattern() }}$'
            then {{ expression }}
        when {{ expression }} rlike '^[0-9A-Fa-f:.]+$'
            and {{ expression }} like '%:%'
            and not ({{ expression }} rlike '^:[^:]|[^:]:$')
            and (
                {{ expression }} not like '%.%'
                or {{ expression }} rlike '^.*:{{ ipv4_pattern() }}$'
            )
            then element_at(transform(
                {# 1. a dotted IPv4 tail becomes two hex groups #}
                array(case
                    when {{ expression }} like '%.%'
                        then element_at(transform(
                            array(transform(
                                split(regexp_extract({{ expression }}, '[0-9.]+$', 0), '[.]'),
                                o -> cast(o as int)
                            )),
                            q -> regexp_replace({{ expression }}, '[0-9.]+$', '')
                                || lower(hex(q[0] * 256 + q[1])) || ':' || lower(hex(q[2] * 256 + q[3]))
                        ), 1)
                    else {{ expression }}
                end),
                {# 2. the eight groups, each without leading zeros #}
                hex_form -> element_at(transform(
                    array({{ _spark_ipv6_groups('hex_form') }}),
                    groups -> case
                        when size(groups) = 8 and forall(groups, g -> g rlike '^[0-9A-Fa-f]{1,4}$')
                            then element_at(transform(
                                array(transform(groups, g -> lower(conv(g, 16, 16)))),
                                gs -> case
                                    {# 3. IPv4-mapped: the IPv4 address #}
                                    when slice(gs, 1, 5) = array('0', '0', '0', '0', '0') and gs[5] = 'ffff'
                                        then concat_ws('.',
                                            cast(div(cast(conv(gs[6], 16, 10) as int), 256) as string),
                                            cast(cast(conv(gs[6], 16, 10) as int) % 256 as string),
                                            cast(div(cast(conv(gs[7], 16, 10) as int), 256) as string),
                                            cast(cast(conv(gs[7], 16, 10) as int) % 256 as string))
                                    {# 3. RFC 5952: the longest run of two or more zero groups
                                        (the first of equal runs) becomes "::" #}
                                    else element_at(transform(
                                        array(concat_ws('', transform(gs, g -> if(g = '0', 'z', 'n')))),
                                        zeros -> case
                                            {%- for run in range(8, 1, -1) %}
                                            {%- set at = "instr(zeros, '" ~ ('z' * run) ~ "')" %}
                                            when {{ at }} > 0
                                                then concat_ws(':', slice(gs, 1, {{ at }} - 1))
                                                || '::'
                                                || concat_ws(':', slice(gs, {{ at }} + {{ run }}, {{ 9 - run }} - {{ at }}))
                                            {%- endfor %}
                                            else concat_ws(':', gs)
                                        end
                                    ), 1)
                                end
                            ), 1)
                    end
                ), 1)
            ), 1)
    end
{%- endmacro %}

{#- The bits of a normalized address (32 or 128 characters of 0 and 1). -#}
{% macro _spark_ip_bits(ip) -%}
    case
        when {{ ip }} like '%:%'
            then concat_ws('', transform({{ _spark_ipv6_groups(ip) }}, g -> lpad(conv(g, 16, 2), 16, '0')))
        else concat_ws('', transform(split({{ ip }}, '[.]'), o -> lpad(conv(o, 10, 2), 8, '0')))
    end
{%- endmacro %}

{% macro spark__ip_in_cidr(ip, cidr) -%}
    {#- NULL for a missing address or network, as DuckDB gives -#}
    if({{ ip }} is null or {{ cidr }} is null, null, element_at(transform(
        array(struct(
            {{ _spark_ip_bits(ip) }} as address,
            {{ _spark_ip_bits("split_part(" ~ cidr ~ ", '/', 1)") }} as network,
            {{ cidr_prefix_length(cidr) }} as prefix
        )),
        c -> length(c.address) = length(c.network) and left(c.address, c.prefix) = left(c.network, c.prefix)
    ), 1))
{%- endmacro %}
