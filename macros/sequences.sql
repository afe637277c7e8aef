{#-
    Sequence detections: ordered steps by one key (a principal, a user name, an access key, a
    role) within `within_minutes` of the first step. `steps` is a list of 2 or 3 mappings:
      relation  the events of the step (a CTE of the detection, every event column)
      key       a column of the step's events, or an expression over them naming them `{step}`
                (`json_string('{step}.request_parameters', '$.userName')`): the steps of one
                sequence share it
      also      (optional) a condition on this step and earlier ones, by the step relations'
                names (`used.source_ip_address != created.source_ip_address`)
    Each step happens at or after the one before it (CloudTrail stamps whole seconds: calls in
    the same second are in any order). `unless` (optional, a mapping of relation and key) is a
    step that must not happen between the first and the last: "and not D".
    The matches are the events of every step of every complete sequence. A sequence longer
    than `detection_lookback_minutes` (var, default 60) is refused, because a day's alerts see
    that much of the day before: a sequence across midnight or across two builds is found once,
    on the day it completes.
-#}
{% macro sequence_matches(steps, within_minutes, unless=none) -%}
    {%- if steps | length not in [2, 3] -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": a sequence has 2 or 3 steps") }}
    {%- endif -%}
    {%- do check_within_lookback(within_minutes, 'sequence') -%}
    {%- set width = within_minutes * 60000 -%}
    {%- set first = steps[0].relation -%}
    {%- set last = steps[-1].relation -%}
    {%- set at = epoch_milliseconds -%}
    {%- set chains -%}
        select
            {%- for step in steps %}
            {{ step.relation }}.event_id as step_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ first }}
        {%- for step in steps[1:] %}
        {%- set previous = steps[loop.index0].relation %}
        inner join {{ step.relation }}
            on
                {{ _sequence_key(step) }}
                = {{ _sequence_key(steps[0]) }}
                and {{ at(step.relation ~ '.event_time') }} >= {{ at(previous ~ '.event_time') }}
                and {{ at(step.relation ~ '.event_time') }} <= {{ at(first ~ '.event_time') }} + {{ width }}
                {%- if step.also %}
                and ({{ step.also }})
                {%- endif %}
        {%- endfor %}
        {%- if unless %}
        where not exists (
            select 1
            from {{ unless.relation }}
            where
                {{ _sequence_key(unless) }}
                = {{ _sequence_key(steps[0]) }}
                and {{ at(unless.relation ~ '.event_time') }} >= {{ at(first ~ '.event_time') }}
                and {{ at(unless.relation ~ '.event_time') }} <= {{ at(last ~ '.event_time') }}
        )
        {%- endif %}
    {%- endset -%}
    {#- the chains once, read by every step (pasted into each, the join ran 3 to 6 times) -#}
    with sequence_chains as (
        {{ chains }}
    )
    {%- for step in steps %}
    select * from {{ step.relation }}
    where event_id in (select sequence_chains.step_{{ loop.index }} from sequence_chains)
    {%- for earlier in steps[:loop.index0] %}
        and event_id not in (select sequence_chains.step_{{ loop.index }} from sequence_chains)
    {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro _sequence_key(step) -%}
    {%- if modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', step.key) -%}
        {{ step.relation }}.{{ step.key }}
    {%- else -%}
        ({{ step.key | replace('{step}', step.relation) }})
    {%- endif -%}
{%- endmacro %}
