with

source as (

    select * from {{ source('police', 'asb_incidents') }}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by incident_reference order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        incident_reference,
        cast(incident_datetime as timestamp) as incident_datetime,
        asb_category,
        lsoa_code,
        covid_related_flag,
        night_time_economy_flag,
        street_community_flag,
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
