{{
    config(
        materialized='lake_partitions',
        partition_by='alert_date',
        input_partition_by='event_date',
        driven_by='cloudtrail_events',
        watermark='landed_at',
    )
}}

-- The unified alerts dataset: every detection's matches, de-duplicated into alerts and written
-- to <lake>/alerts/alert_date=YYYY-MM-DD/. A day of alerts is rebuilt when its day of
-- cloudtrail_events changed, or when a detection, a suppression or any upstream SQL did (so a
-- new or changed detection retro-hunts the whole lake). Every model tagged `detection` must be
-- listed here; the build fails otherwise.

{{ detection_alerts([
    'det_access_analyzer_or_macie_disabled',
    'det_access_denied_burst',
    'det_access_key_created_for_other_user',
    'det_admin_policy_attached',
    'det_assume_role_new_source_ip',
    'det_attack_tool_user_agent',
    'det_bedrock_model_access_enabled',
    'det_cloudtrail_tampering',
    'det_config_recording_disabled',
    'det_console_login_failures_burst',
    'det_console_login_without_mfa',
    'det_dns_query_logging_deleted',
    'det_ec2_instance_connect_key_pushed',
    'det_ec2_unusual_instance_types',
    'det_federation_token_created',
    'det_guardduty_disabled',
    'det_iam_user_created',
    'det_inline_policy_full_access',
    'det_instance_credentials_outside_aws',
    'det_instance_user_data_modified',
    'det_kms_key_disabled_or_deleted',
    'det_lambda_layer_added',
    'det_lambda_made_public',
    'det_login_profile_for_other_user',
    'det_mfa_device_removed',
    'det_organization_leave',
    'det_password_policy_weakened',
    'det_role_trust_external_account',
    'det_rolesanywhere_trust_anchor',
    'det_root_account_usage',
    'det_root_console_login',
    'det_s3_bucket_made_public',
    'det_s3_public_access_block_removed',
    'det_secrets_bulk_read',
    'det_security_group_open_to_world',
    'det_security_hub_disabled',
    'det_snapshot_or_image_shared',
    'det_ssm_parameters_bulk_read',
    'det_ssm_remote_command',
    'det_vpc_flow_logs_deleted',
]) }}
