{{
    config(
        materialized='lake_partitions',
        partition_by='alert_date',
        input_partition_by='event_date',
        driven_by=['cloudtrail_events', 'http_access_log'],
        watermark='landed_at',
        input_lookback=var('detection_lookback_minutes', 60),
        input_time='event_time',
        history={'baseline_days': var('baseline_lookback_days', 90)},
    )
}}

-- The unified alerts dataset: every detection's matches, de-duplicated into alerts and written
-- to <lake>/alerts/alert_date=YYYY-MM-DD/. A day of alerts is rebuilt when its day of
-- cloudtrail_events changed, or the day before it (windows read its last hour), or what the
-- baselines learnt in the lookback before it (a late event can make a later "first" known), or
-- when a detection, a suppression or any upstream SQL did (so a new or changed detection
-- retro-hunts the whole lake). The detections are every model under
-- models/detections/, listed by `ingest detections sync` (macros/detection_models.sql).

{{ detection_alerts(detection_models()) }}
