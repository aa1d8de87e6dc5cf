with

source as (

    select * from {{ source('health', 'alcohol_admissions') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by lsoa_code, month, age_band order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        lsoa_code,
        cast(month || '-01' as date) as month,
        age_band,
        cast(admissions as integer) as admissions,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
