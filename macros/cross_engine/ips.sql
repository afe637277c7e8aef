{#
    IP addresses found in a record, as one sorted, de-duplicated varchar[]. Candidates are
    maximal runs of digits and dots, so adjacent addresses ("1.2.3.4,5.6.7.8") are all found,
    then kept only if they are a dotted quad of octets 0-255. User agents are not searched
    because version numbers ("Chrome/128.0.0.0") look like addresses.
#}

{% macro extract_ips(documents, source_ip) %}
    {{ return(adapter.dispatch('extract_ips', 'trailhouse')(documents, source_ip)) }}
{% endmacro %}

{% macro duckdb__extract_ips(documents, source_ip) -%}
    {%- set octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])' -%}
    {%- set ipv4 = octet ~ '([.]' ~ octet ~ '){3}' -%}
    list_sort(list_distinct(list_filter(
        list_concat(
            regexp_extract_all(
                concat_ws(' ', {% for doc in documents %}{{ doc }}{{ ', ' if not loop.last }}{% endfor %}),
                '[0-9][0-9.]*[0-9]'
            ),
            [{{ source_ip }}]
        ),
        candidate -> regexp_full_match(candidate, '{{ ipv4 }}')
            or regexp_full_match(candidate, '[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}')
    )))
{%- endmacro %}
