with

source as (

    select * from {{ source('council', 'asb_requests') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by request_id order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        request_id,
        cast(received_date as date) as received_date,
        ward_code,
        category,
        covid_related_flag,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
