{#
    Fails for timestamps before `min_value` or more than `future_tolerance` into the future:
    a clock-skewed or mis-parsed eventTime would otherwise land in a nonsense partition.
#}
{% test timestamp_in_range(model, column_name, min_value, future_tolerance='1 day') %}

    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} < cast('{{ min_value }}' as {{ utc_timestamp_type() }})
        or {{ column_name }} > current_timestamp + interval '{{ future_tolerance }}'

{% endtest %}
