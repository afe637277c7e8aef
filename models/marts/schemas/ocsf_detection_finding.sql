{{ config(materialized='view') }}

{{ schema_view('ocsf_detection_finding') }}
