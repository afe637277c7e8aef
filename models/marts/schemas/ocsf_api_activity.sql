{{ config(materialized='view') }}

{{ schema_view('ocsf_api_activity') }}
