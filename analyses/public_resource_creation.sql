-- Resources made public: shared snapshots and images, public buckets, functions, repositories.
with

events as (

    select * from {{ ref('cloudtrail_events') }}

),

final as (

    select
        event_time,
        recipient_account_id,
        principal_name,
        event_source,
        event_name,
        cast(request_parameters as varchar) as changed_values
    from events
    where
        error_code is null
        and (
            (
                event_name in (
                    'ModifySnapshotAttribute', 'ModifyImageAttribute', 'ModifyDBSnapshotAttribute'
                )
                and cast(request_parameters as varchar) ilike '%all%'
            )
            or (
                event_name in ('PutBucketAcl', 'PutObjectAcl', 'PutBucketPolicy')
                and (
                    cast(request_parameters as varchar) ilike '%AllUsers%'
                    or cast(request_parameters as varchar) like '%"Principal":"*"%'
                    or cast(request_parameters as varchar) like '%"AWS":"*"%'
                )
            )
            or (
                event_name in (
                    'AddPermission20150331v2', 'AddPermission', 'CreateFunctionUrlConfig20211031'
                )
                and cast(request_parameters as varchar) like '%"principal":"*"%'
            )
            or (
                event_name = 'SetRepositoryPolicy'
                and cast(request_parameters as varchar) like '%"Principal":"*"%'
            )
            or (
                event_name in (
                    'CreateDBInstance', 'ModifyDBInstance', 'RestoreDBInstanceFromDBSnapshot'
                )
                and json_extract_string(request_parameters, '$.publiclyAccessible') = 'true'
            )
        )
    order by 1

)

select * from final
