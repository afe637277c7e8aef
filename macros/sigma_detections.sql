{#- Written by `ingest sigma import`: the imported Sigma detection models, which
    `alerts` reads with the native ones. Do not edit. -#}
{% macro sigma_detection_models() %}
    {{ return([
    ]) }}
{% endmacro %}
