{{ config(materialized='view') }}

{{ schema_view('ocsf_authentication') }}
