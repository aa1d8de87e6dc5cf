-- fct_vru_outcome_measures for publication: the Home Office VRU outcome measures per financial quarter, one row
-- per quarter with a column per measure (the measures do not add up to each other, so there is no total; the
-- under-25 counts are parts of the counts beside them, declared as such).

with

measures as (
    select * from {{ ref('fct_vru_outcome_measures') }}
)

select
    financial_year_quarter,
    max(definition_version) as definition_version,
    sum(value) filter (where measure_code = 'non_domestic_homicides')::bigint as non_domestic_homicides,
    sum(value) filter (where measure_code = 'non_domestic_knife_homicides_victims_under_25')::bigint
        as non_domestic_knife_homicides_victims_under_25,
    sum(value) filter (where measure_code = 'knife_enabled_serious_violence')::bigint
        as knife_enabled_serious_violence,
    sum(value) filter (where measure_code = 'knife_enabled_serious_violence_victims_under_25')::bigint
        as knife_enabled_serious_violence_victims_under_25,
    -- A proxy (A&E attendances, not hospital admissions): the column name says so.
    sum(value) filter (where measure_code = 'ae_knife_assault_attendances_under_25')::bigint
        as ae_knife_assault_attendances_under_25_proxy
from measures
group by financial_year_quarter
