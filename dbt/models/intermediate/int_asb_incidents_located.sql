-- One row per ASB incident reported to the police (latest version), placed in its ward and locality, with its
-- periods and hour of the week: the base for the ASB and hotspot marts. Internal-only police data, so it sits in
-- intermediate under row security like the other police tables.
--
-- Incremental by load batch, as int_crimes_classified: a run adds only the rows of batches it has not built yet;
-- staging keeps the latest version of each incident, so a corrected incident in a new batch replaces the earlier
-- row (delete+insert on incident_reference).
{{
    config(
        materialized='incremental',
        unique_key='incident_reference',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['incident_reference'], 'unique': True},
            {'columns': ['batch_id']},
            {'columns': ['incident_date']},
        ],
        post_hook=["{{ restrict_rows_to_partners('agency') }}", "{{ allow_retention_deletes() }}"]
    )
}}

with

incidents as (
    {{ batches_not_built(ref('stg_police__asb_incidents')) }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    incidents.incident_reference,
    'police' as agency,
    incidents.incident_datetime,
    cast(incidents.incident_datetime as date) as incident_date,
    {{ date_period_columns() }},
    {{ hour_of_week('incidents.incident_datetime') }} as hour_of_week,
    incidents.asb_category,
    incidents.covid_related_flag = 'Y' as is_covid_related,
    incidents.night_time_economy_flag = 'Y' as is_night_time_economy,
    incidents.street_community_flag = 'Y' as is_street_community,
    incidents.lsoa_code,
    -- Never dropped for its place: an LSOA outside dim_geography is 'unmatched', a missing one 'not recorded'.
    {{ lsoa_location_status('incidents.lsoa_code') }} as location_status,
    {{ lsoa_ward_columns('incidents.lsoa_code') }},
    geography.district_name,
    coalesce(geography.is_manchester, false) as is_manchester,
    geography.imd_decile,
    coalesce(geography.is_city_centre, false) as is_city_centre,
    incidents.batch_id
from incidents
left join geography on geography.lsoa_code = incidents.lsoa_code
left join dates on dates.date_day = cast(incidents.incident_datetime as date)
