{{ config(materialized='view') }}

{{ schema_view('events_ecs') }}
