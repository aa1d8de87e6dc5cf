-- One row per published police.uk street-level record (crime or ASB) of every loaded file, placed in its ward
-- and locality where its LSOA is in Greater Manchester. Open data with no person keys, so no row security; it
-- is in intermediate because marts aggregate it (and it is the one large fact table without a record key).
--
-- Incremental by load batch: police.uk rows have no record key (ASB rows have no Crime ID), so a row is its
-- batch and its row in the file; a batch is built once. A re-issued month supersedes the earlier batch's rows
-- of that month (staging keeps the latest batch per month): the pre-hook deletes built rows staging no longer
-- counts, so they are never counted twice.
{{
    config(
        materialized='incremental',
        unique_key=['batch_id', 'source_row'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['batch_id', 'source_row'], 'unique': True},
            {'columns': ['month_start']},
        ],
        pre_hook=["{% if is_incremental() %}
            delete from {{ this }} as built
            where not exists (
                select 1 from {{ ref('stg_police_uk__street_crime') }} as counted
                where counted.batch_id = built.batch_id and counted.month = built.month_start
            )
        {% endif %}"],
        post_hook=["{{ allow_retention_deletes() }}"]
    )
}}

with

street_crime as (
    {{ batches_not_built(ref('stg_police_uk__street_crime')) }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    street_crime.batch_id,
    street_crime.source_row,
    street_crime.crime_id,
    {{ date_period_columns(month_start='street_crime.month') }},
    street_crime.crime_type,
    street_crime.crime_type = 'Anti-social behaviour' as is_anti_social_behaviour,
    street_crime.last_outcome_category,
    street_crime.reported_by,
    street_crime.falls_within,
    street_crime.longitude,
    street_crime.latitude,
    street_crime.location,
    street_crime.lsoa_code,
    street_crime.lsoa_name,
    -- A force's file includes LSOAs outside its area, and some rows have no location at all: both are labelled,
    -- never dropped.
    {{ lsoa_location_status('street_crime.lsoa_code') }} as location_status,
    {{ lsoa_ward_columns(
        'street_crime.lsoa_code',
        unmatched_code='outside Greater Manchester',
        unmatched_name='LSOA outside Greater Manchester',
        unmatched_locality='Outside Greater Manchester',
        missing_code='no location',
        missing_name='No location'
    ) }},
    geography.district_code,
    geography.district_name,
    coalesce(geography.is_manchester, false) as is_manchester
from street_crime
left join geography on geography.lsoa_code = street_crime.lsoa_code
left join dates on dates.date_day = street_crime.month
