with

source as (

    select * from {{ source('reference', 'lsoa_population') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by lsoa_code, age, reference_date order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        lsoa_code,
        cast(age as integer) as age,
        cast(reference_date as date) as reference_date,
        cast(population as integer) as population,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
