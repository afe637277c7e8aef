{#-
    Tuning without editing SQL: the dbt var `detections` (dbt_project.yml, or `--vars`) maps a
    detection_id, or `*` for every detection, to
      enabled   false leaves the detection out of `alerts` (its model and unit tests stay, so
                nothing that refs it breaks)
      severity  replaces the severity of its meta
      params    replaces the parameters its SQL reads with detection_param() (thresholds,
                windows, minimum history, ...)
      exclude   a list of mappings column → value; an event matching every entry of one of
                them is left out (text values are globs: `arn:aws:iam::*:role/scanner-*`; a
                list means any of its values; true/false match booleans). Any column of the
                detection's events can be named.
    The var `severity_rules` raises or lowers an alert's severity by the context of its events
    (`when`: the same mappings as `exclude`; `raise` / `lower` levels, which add up, or `set` a
    severity), with the reasons kept in the alert's `severity_reason`.
-#}

{% macro detection_settings(detection_id) %}
    {%- set all = var('detections', {}) or {} -%}
    {%- set settings = {'enabled': true, 'severity': none, 'params': {}, 'exclude': []} -%}
    {%- for key in ['*', detection_id] if key in all -%}
        {%- set given = all[key] or {} -%}
        {%- for name in given if name not in ['enabled', 'severity', 'params', 'exclude'] -%}
            {{ exceptions.raise_compiler_error(
                "var detections." ~ key ~ ": unknown setting " ~ name
                ~ " (enabled, severity, params, exclude)") }}
        {%- endfor -%}
        {%- if 'enabled' in given -%}{%- do settings.update({'enabled': given.enabled}) -%}{%- endif -%}
        {%- if given.severity -%}
            {%- if given.severity not in severity_levels() -%}
                {{ exceptions.raise_compiler_error(
                    "var detections." ~ key ~ ": unknown severity " ~ given.severity
                    ~ " (" ~ severity_levels() | join(', ') ~ ")") }}
            {%- endif -%}
            {%- do settings.update({'severity': given.severity}) -%}
        {%- endif -%}
        {%- do settings.params.update(given.params or {}) -%}
        {%- do settings.update({'exclude': settings.exclude + (given.exclude or [])}) -%}
    {%- endfor -%}
    {{ return(settings) }}
{% endmacro %}


{% macro severity_levels() %}
    {{ return(['info', 'low', 'medium', 'high', 'critical']) }}
{% endmacro %}


{#- Every key of the var `detections` names a detection (a typo would silently tune nothing). -#}
{% macro check_detection_settings(detection_ids) %}
    {%- for key in (var('detections', {}) or {}) if key != '*' and key not in detection_ids -%}
        {{ exceptions.raise_compiler_error(
            "var detections: no detection with id " ~ key ~ " (see detections/COVERAGE.md)") }}
    {%- endfor -%}
{% endmacro %}


{#- A detection's parameter (a number, or a list of text values): its value in the var
    `detections` for the detection being compiled, else `default`. Unit tests always get the default: they test the shipped logic. -#}
{% macro detection_param(name, default) %}
    {%- if not execute -%}{{ return(default) }}{%- endif -%}
    {#- unit tests compile with an empty graph -#}
    {%- set node = graph.get('nodes', {}).get('model.' ~ project_name ~ '.' ~ model.name) -%}
    {%- set detection_id = node.config.meta.get('detection_id') if node else none -%}
    {%- if detection_id is none -%}{{ return(default) }}{%- endif -%}
    {%- set value = detection_settings(detection_id).params.get(name, default) -%}
    {#- a parameter becomes SQL text: one of the default's kind, nothing else (a list holds
        text values, which reach SQL only through sql_string) -#}
    {%- if default is number and not (value is number and value is not boolean and value >= 0) -%}
        {{ exceptions.raise_compiler_error(
            "var detections." ~ detection_id ~ ".params." ~ name ~ ": expected a number >= 0, got "
            ~ value) }}
    {%- endif -%}
    {%- if default is sequence and default is not string and not (
        value is sequence and value is not string and value is not mapping and value | length > 0
        and value | reject('string') | list | length == 0) -%}
        {{ exceptions.raise_compiler_error(
            "var detections." ~ detection_id ~ ".params." ~ name
            ~ ": expected a non-empty list of text values, got " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{#- SQL: true when the columns match every entry of `conditions` (a mapping column → value). -#}
{% macro context_matches(conditions) -%}
    (
    {%- for column, value in conditions.items() %}
        {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
            {{ exceptions.raise_compiler_error("not a column name: " ~ column) }}
        {%- endif %}
        {{ 'and ' if not loop.first }}coalesce(
        {%- if value is sameas true or value is sameas false -%}
            {{ column }} = {{ 'true' if value else 'false' }}
        {%- else -%}
            {%- set values = value if value is iterable and value is not string else [value] -%}
            ({% for one in values %}{{ matches_glob('cast(' ~ column ~ ' as string)', sql_string(one | string)) }}{{ ' or ' if not loop.last }}{% endfor %})
        {%- endif -%}, false)
    {%- endfor %}
    )
{%- endmacro %}


{#- SQL: true when an event is excluded by any of `exclude` (a list of mappings). -#}
{% macro excluded(exclude) -%}
    {%- if exclude -%}
        ({% for conditions in exclude %}{{ context_matches(conditions) }}{{ ' or ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{#- The severity rules (var `severity_rules`), checked: each has `when`, `reason` and one of
    `raise` / `lower` (levels) or `set` (a severity). -#}
{% macro severity_rules() %}
    {%- set rules = var('severity_rules', []) or [] -%}
    {%- for rule in rules -%}
        {%- for column in (rule.get('when') or {}) if not modules.re.fullmatch('[a-z_][a-z0-9_]*', column) -%}
            {{ exceptions.raise_compiler_error("var severity_rules: not a column name: " ~ column) }}
        {%- endfor -%}
        {%- set changes = [rule.get('raise'), rule.get('lower'), rule.get('set')] | select('ne', none) -%}
        {%- if not rule.get('when') or not rule.get('reason') or changes | list | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "var severity_rules: each rule needs `when`, `reason` and one of raise, lower, set: "
                ~ rule) }}
        {%- endif -%}
        {%- if rule.get('set') and rule.get('set') not in severity_levels() -%}
            {{ exceptions.raise_compiler_error("var severity_rules: unknown severity " ~ rule.get('set')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(rules) }}
{% endmacro %}


{#- The columns the severity rules read, which alerts carry from each detection's events. -#}
{% macro severity_rule_columns() %}
    {%- set columns = [] -%}
    {%- for rule in severity_rules() -%}
        {%- for column in rule.when if column not in columns -%}
            {%- do columns.append(column) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- SQL: the severity rank (0 info … 4 critical) after the rules: the raises and lowers of
    the rules that apply add up (within info … critical); a `set` rule that applies wins. -#}
{% macro ruled_severity_rank(rank) -%}
    {%- set rules = severity_rules() -%}
    {%- set shifted -%}
        least(4, greatest(0, {{ rank }}
        {%- for rule in rules if not rule.get('set') %}
            {{ '+' if rule.get('raise') else '-' }} case when {{ context_matches(rule.when) }} then {{ (rule.get('raise') or rule.get('lower')) | int }} else 0 end
        {%- endfor %}))
    {%- endset -%}
    {%- set fixed = rules | selectattr('set') | list -%}
    {%- if fixed -%}
        case
        {%- for rule in fixed | reverse %}
            when {{ context_matches(rule.when) }} then {{ severity_levels().index(rule.set) }}
        {%- endfor %}
            else {{ shifted }}
        end
    {%- else -%}
        {{ shifted }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: the reasons of the rules that applied, `; `-separated, NULL when none did. -#}
{% macro severity_reason() -%}
    {%- set rules = severity_rules() -%}
    {%- if rules -%}
        nullif(concat_ws('; '
        {%- for rule in rules -%}
            , case when {{ context_matches(rule.when) }} then {{ sql_string(rule.reason) }} end
        {%- endfor -%}
        ), '')
    {%- else -%}
        cast(null as string)
    {%- endif -%}
{%- endmacro %}
