-- How well each source links into the cross-agency cohort: the share of its young people's records that carry
-- a linkable pseudonymised key (record match rate), and the share of the people it knows whom another agency
-- also knows (overlap rate), with the overlap with each other agency.

with

contacts as (
    select * from {{ ref('int_cohort_contacts') }}
),

cohort as (
    select * from {{ ref('int_cohort_young_people') }}
),

records as (
    select
        agency,
        count(*) as records,
        count(person_key) as linkable_records
    from contacts
    group by agency
),

people_by_source as (
    -- One row per person and agency that knows them.
    select 'police' as agency, cohort.* from cohort where known_to_police
    union all select 'youth_justice', cohort.* from cohort where known_to_youth_justice
    union all select 'education', cohort.* from cohort where known_to_education
    union all select 'health', cohort.* from cohort where known_to_ae_violence
),

overlap as (
    select
        agency,
        count(*) as people,
        count(*) filter (where agency_count > 1) as people_known_to_another_agency,
        count(*) filter (where known_to_police) as also_known_to_police,
        count(*) filter (where known_to_youth_justice) as also_known_to_youth_justice,
        count(*) filter (where known_to_education) as also_known_to_education,
        count(*) filter (where known_to_ae_violence) as also_known_to_ae_violence
    from people_by_source
    group by agency
)

select
    records.agency,
    records.records,
    records.linkable_records,
    round(100.0 * records.linkable_records / nullif(records.records, 0), 1) as record_match_rate_pct,
    coalesce(overlap.people, 0) as people,
    coalesce(overlap.people_known_to_another_agency, 0) as people_known_to_another_agency,
    round(100.0 * overlap.people_known_to_another_agency / nullif(overlap.people, 0), 1) as overlap_rate_pct,
    coalesce(overlap.also_known_to_police, 0) as also_known_to_police,
    coalesce(overlap.also_known_to_youth_justice, 0) as also_known_to_youth_justice,
    coalesce(overlap.also_known_to_education, 0) as also_known_to_education,
    coalesce(overlap.also_known_to_ae_violence, 0) as also_known_to_ae_violence
from records
left join overlap using (agency)
