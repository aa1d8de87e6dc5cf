with

source as (

    -- A re-issued month supersedes the earlier file's rows of that month (registry: supersedes_by).
    {{ latest_issue('police', 'stop_search') }}

),

renamed as (

    select
        search_type,
        cast(search_datetime as timestamptz) as search_datetime,
        part_of_policing_operation,
        policing_operation,
        cast(latitude as numeric) as latitude,
        cast(longitude as numeric) as longitude,
        gender,
        age_range,
        self_defined_ethnicity,
        officer_defined_ethnicity,
        legislation,
        object_of_search,
        outcome,
        outcome_linked_to_object,
        removal_of_more_than_outer_clothing,
        _batch_id as batch_id,
        _source_row as source_row

    from source

)

select * from renamed
