{#
    Fails for every row where `expression` is not true. Our own version because the dbt hub
    (dbt_utils) is not reachable from CI.
#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

{% endtest %}
