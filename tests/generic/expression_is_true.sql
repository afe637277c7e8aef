{#
    Fails for every row where `expression` is not true; on a column, the expression continues
    the column (`expression: "> now()"`). Our own version because the dbt hub (dbt_utils) is not
    reachable from CI.
#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)

{% endtest %}
