{{
    config(
        materialized='lake_partitions',
        partition_by='alert_date',
        input_partition_by='event_date',
        driven_by=['cloudtrail_events', 'http_access_log'],
        watermark='landed_at',
        input_lookback=var('detection_lookback_minutes', 60),
        input_time='event_time',
    )
}}

-- The unified alerts dataset: every detection's matches, de-duplicated into alerts and written
-- to <lake>/alerts/alert_date=YYYY-MM-DD/. A day of alerts is rebuilt when its day of
-- cloudtrail_events changed, or when a detection, a suppression or any upstream SQL did (so a
-- new or changed detection retro-hunts the whole lake). The detections are every model under
-- models/detections/, listed by `ingest detections sync` (macros/detection_models.sql).

{{ detection_alerts(detection_models()) }}
