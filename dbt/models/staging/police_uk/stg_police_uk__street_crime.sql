with

source as (

    -- A re-issued month supersedes the earlier file's rows of that month (registry: supersedes_by).
    {{ latest_issue('police_uk', 'street_crime') }}

),

renamed as (

    select
        crime_id,
        cast(month || '-01' as date) as month,
        reported_by,
        falls_within,
        cast(longitude as numeric) as longitude,
        cast(latitude as numeric) as latitude,
        location,
        lsoa_code,
        lsoa_name,
        crime_type,
        last_outcome_category,
        context,
        _batch_id as batch_id,
        _source_row as source_row

    from source

)

select * from renamed
