{{ config(materialized='view') }}

{{ schema_view('ocsf_account_change') }}
