-- ECR images deleted in bulk

with

events as (

    select * from {{ detection_events() }}

),

deletions as (

    select
        *,
        {{ json_string('request_parameters', '$.repositoryName') }} as repository
    from events
    where
        event_source = 'ecr.amazonaws.com'
        and event_name = 'BatchDeleteImage'
        and error_code is null
        and not {{ acted_by_aws_service() }}

),

images as (

    select
        *,
        -- each image id the call names (a digest or a tag), with its repository
        {{ list_transform(
            json_path_strings('request_parameters', ['imageIds']),
            'image',
            "coalesce(repository, '') || ' ' || image"
        ) }} as deleted_images
    from deletions

),

final as (

    {{ threshold_matches(
        'images',
        ['principal_arn'],
        minutes=detection_param('minutes', 30),
        at_least=detection_param('at_least', 10),
        distinct_items='deleted_images'
    ) }}

)

select {{ star_except(['repository', 'deleted_images']) }} from final
