-- One row per assault-related A&E attendance (latest version), with the incident's ward and locality where the
-- patient gave one, the arrival's periods and hour of the week, and the Navigator pseudonym where linkage
-- applies. Person-level health data: restricted, under row security.
--
-- Incremental by load batch, as int_crimes_classified: a corrected attendance in a new batch replaces the earlier
-- row (delete+insert on attendance_id), and an attendance whose patient has a new person id since is built again.
{{
    config(
        materialized='incremental',
        unique_key='attendance_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['attendance_id'], 'unique': True},
            {'columns': ['batch_id']},
            {'columns': ['arrival_date']},
        ],
        post_hook=["{{ restrict_rows_to_partners('agency') }}", "{{ allow_retention_deletes() }}"]
    )
}}

with

attendances as (
    {{
        batches_not_built(
            ref('stg_health__ae_assault_attendances'),
            unique_key='attendance_id',
            person_columns=['patient_person_key']
        )
    }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    attendances.attendance_id,
    'health' as agency,
    attendances.arrival_datetime,
    cast(attendances.arrival_datetime as date) as arrival_date,
    {{ date_period_columns() }},
    {{ hour_of_week('attendances.arrival_datetime') }} as hour_of_week,
    attendances.patient_person_key,
    attendances.age,
    attendances.sex,
    attendances.site,
    attendances.assault_method,
    attendances.location_type,
    attendances.incident_lsoa_code,
    -- The incident location is optional in the ISTV data set (about 60% complete): no LSOA, no ward.
    {{ lsoa_location_status('attendances.incident_lsoa_code') }} as location_status,
    {{ lsoa_ward_columns('attendances.incident_lsoa_code', missing_name='Incident location not recorded') }},
    geography.district_name,
    coalesce(geography.is_manchester, false) as is_manchester,
    geography.imd_decile,
    coalesce(geography.is_city_centre, false) as is_city_centre,
    attendances.batch_id
from attendances
left join geography on geography.lsoa_code = attendances.incident_lsoa_code
left join dates on dates.date_day = cast(attendances.arrival_datetime as date)
