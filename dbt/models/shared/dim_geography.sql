-- One row per LSOA code in Greater Manchester, of either vintage: the 1,702 LSOAs 2021 (police.uk from 2023,
-- ONS outputs) and the 2011 codes that were retired in 2021 (police.uk to December 2022, today's extracts), so
-- that a code of either vintage resolves. lsoa_vintage says which: '2011 and 2021' (code unchanged), '2021'
-- (new code) or '2011' (retired code, resolved to its best-fit 2021 LSOA in lsoa21_code).
--
-- Ward and district are the 2021 LSOA's (ONS best fit, wards of May 2022; Manchester's ward codes are unchanged
-- since May 2018, so the locality seed's 2019 codes still match). IMD 2019 is published on 2011 LSOAs: a 2011
-- code carries its own; a new 2021 code carries its 2011 parent's, the one giving it the most residents when it
-- was a merge or a split (imd_lsoa11_code names it). Population is dim_population's Census 2021-based figure on
-- 2021 LSOAs only; a retired 2011 code has none, so summing population over every row counts each resident once.

with

lsoas_2021 as (
    select * from {{ ref('ons_lsoa21_to_ward22') }}
),

best_fit as (
    select * from {{ ref('ons_lsoa11_to_lsoa21') }}
),

links as (
    select * from {{ ref('dim_lsoa11_to_lsoa21') }}
),

deprivation as (
    select * from {{ ref('imd2019_lsoa11') }}
),

denominators as (
    select * from {{ ref('iod2019_population_denominators_lsoa11') }}
),

localities as (
    select * from {{ ref('manchester_localities') }}
),

population as (
    select lsoa_code, sum(population) as population
    from {{ ref('dim_population') }}
    group by lsoa_code
),

-- The 2011 LSOA whose IMD a 2021 LSOA takes: itself when the code is unchanged, otherwise the parent giving it
-- the most mid-2015 residents (ties: the lower code).
imd_parent as (
    select distinct on (links.lsoa21_code)
        links.lsoa21_code,
        links.lsoa11_code,
        links.link_method
    from links
    inner join denominators on denominators.lsoa11_code = links.lsoa11_code
    order by
        links.lsoa21_code,
        links.lsoa11_code = links.lsoa21_code desc,
        links.population_weight * denominators.population_total desc,
        links.lsoa11_code
),

codes as (
    select
        lsoas_2021.lsoa21_code as lsoa_code,
        lsoas_2021.lsoa21_name as lsoa_name,
        case
            when exists (select 1 from best_fit where best_fit.lsoa11_code = lsoas_2021.lsoa21_code)
                then '2011 and 2021'
            else '2021'
        end as lsoa_vintage,
        lsoas_2021.lsoa21_code,
        imd_parent.lsoa11_code as imd_lsoa11_code,
        case
            when imd_parent.lsoa11_code = lsoas_2021.lsoa21_code then 'own (2011 LSOA)'
            else concat('2011 parent (', imd_parent.link_method, ')')
        end as imd_method
    from lsoas_2021
    left join imd_parent on imd_parent.lsoa21_code = lsoas_2021.lsoa21_code
    union all
    -- Retired 2011 codes: resolved through the best fit, with their own IMD.
    select
        best_fit.lsoa11_code,
        best_fit.lsoa11_name,
        '2011',
        best_fit.lsoa21_code,
        best_fit.lsoa11_code,
        'own (2011 LSOA)'
    from best_fit
    where not exists (select 1 from lsoas_2021 where lsoas_2021.lsoa21_code = best_fit.lsoa11_code)
)

select
    codes.lsoa_code,
    codes.lsoa_name,
    codes.lsoa_vintage,
    codes.lsoa21_code,
    lsoas_2021.lsoa21_name,
    codes.lsoa_vintage <> '2011' as is_lsoa21,
    lsoas_2021.ward22_code as ward_code,
    lsoas_2021.ward22_name as ward_name,
    'May 2022' as ward_vintage,
    coalesce(localities.locality, 'Outside Manchester') as locality,
    lsoas_2021.district_code,
    lsoas_2021.district_name,
    'Greater Manchester' as combined_authority,
    lsoas_2021.district_code = 'E08000003' as is_manchester,
    coalesce(localities.city_centre = 'Y', false) as is_city_centre,
    coalesce(localities.nte_zone = 'Y', false) as is_night_time_economy_zone,
    coalesce(localities.pilot_area = 'Y', false) as is_pilot_area,
    -- English Indices of Deprivation 2019 (rank 1, decile 1 = most deprived in England).
    'IMD-2019' as imd_version,  -- seed definitions: deprivation_imd
    codes.imd_lsoa11_code,
    codes.imd_method,
    deprivation.imd_score,
    deprivation.imd_rank,
    deprivation.imd_decile,
    deprivation.income_decile,
    deprivation.employment_decile,
    deprivation.education_decile,
    deprivation.health_decile,
    deprivation.crime_score,
    deprivation.crime_rank,
    deprivation.crime_decile,
    deprivation.barriers_decile,
    deprivation.living_environment_decile,
    deprivation.idaci_decile,
    deprivation.idaopi_decile,
    -- Census 2021-based residents (dim_population) on 2021 LSOAs; null on a retired 2011 code.
    case when codes.lsoa_vintage <> '2011' then coalesce(population.population, 0) end as population
from codes
inner join lsoas_2021 on lsoas_2021.lsoa21_code = codes.lsoa21_code
left join deprivation on deprivation.lsoa11_code = codes.imd_lsoa11_code
-- Manchester's ward codes are the same from May 2018 to 2025: the seed's 2019 codes equal the 2022 ones.
left join localities on localities.ward19_code = lsoas_2021.ward22_code
left join population on population.lsoa_code = codes.lsoa21_code
