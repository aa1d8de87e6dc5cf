-- The Home Office's Violence Reduction Unit success measures (definition VRU-HO-2020) for Manchester, per
-- financial quarter (crimes by the quarter recorded, A&E attendances by the quarter of arrival):
--   1. hospital admissions for assault with a knife or sharp object, especially victims under 25: the
--      partnership receives no admissions data (HES); the nearest it holds is the ISTV A&E data set's
--      assault-related attendances with a knife or blade, published here as a proxy (is_proxy) and never under
--      the measure's name. It counts attendances, not admissions, so it is higher and not comparable with the
--      Home Office's published figures;
--   2. police-recorded knife-enabled serious violence (KNIFE-ONS-2008), especially victims under 25;
--   3. all non-domestic homicides, especially victims under 25 involving knives.
-- One row per quarter and measure; quarters without an event show 0.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where is_classified
),

attendances as (
    select * from {{ ref('int_ae_assault_attendances_located') }}
),

quarters as (
    select distinct financial_year_quarter from crimes
    union
    select distinct financial_year_quarter from attendances
),

measures as (
    select financial_year_quarter, 'non_domestic_homicides' as measure_code,
        count(*) filter (where is_homicide and not is_domestic_abuse) as value
    from crimes group by 1
    union all
    select financial_year_quarter, 'non_domestic_knife_homicides_victims_under_25',
        count(*) filter (where is_homicide and not is_domestic_abuse and is_knife_enabled and victim_age < 25)
    from crimes group by 1
    union all
    select financial_year_quarter, 'knife_enabled_serious_violence',
        count(*) filter (where is_knife_enabled)
    from crimes group by 1
    union all
    select financial_year_quarter, 'knife_enabled_serious_violence_victims_under_25',
        count(*) filter (where is_knife_enabled and victim_age < 25)
    from crimes group by 1
    union all
    select financial_year_quarter, 'ae_knife_assault_attendances_under_25',
        count(*) filter (where assault_method = 'Knife or blade' and age < 25)
    from attendances group by 1
),

versions as (
    select max(definition_version) as definition_version from {{ ref('definitions') }}
    where definition_code = 'vru_outcome_measures' and valid_to is null
)

select
    quarters.financial_year_quarter,
    measure_names.measure_code,
    measure_names.is_proxy,
    coalesce(measures.value, 0) as value,
    versions.definition_version
from quarters
cross join (
    values
        ('non_domestic_homicides', false),
        ('non_domestic_knife_homicides_victims_under_25', false),
        ('knife_enabled_serious_violence', false),
        ('knife_enabled_serious_violence_victims_under_25', false),
        ('ae_knife_assault_attendances_under_25', true)
) as measure_names (measure_code, is_proxy)
left join measures
    on measures.financial_year_quarter = quarters.financial_year_quarter
    and measures.measure_code = measure_names.measure_code
cross join versions
where quarters.financial_year_quarter is not null
