-- Resident population by 2021 LSOA (with its ward and district), single year of age and sex, on Census day
-- (21 March 2021). No real file gives this for Greater Manchester, so it is derived, transparently:
--
--   population(LSOA, age, sex) = Census 2021 district population at that age and sex
--                                x the LSOA's share of its district in the matching IoD 2019 denominator age
--                                  group (0-15, 16-59, 60+; ONS mid-2015, excluding prisoners, on 2011 LSOAs,
--                                  carried to 2021 LSOAs through dim_lsoa11_to_lsoa21).
--
-- District totals are the Census's exactly (Manchester 551,944); within a district the LSOA split is mid-2015's.
-- Values are not rounded (a person is not split in reality, but rounding each cell would break the totals).

with

census as (
    -- female and male only: persons is their sum (and perturbed separately by ONS).
    select * from {{ ref('census2021_population_by_age_district') }}
    where sex in ('female', 'male')
),

denominators as (
    select * from {{ ref('iod2019_population_denominators_lsoa11') }}
),

links as (
    select * from {{ ref('dim_lsoa11_to_lsoa21') }}
),

lsoas as (
    select * from {{ ref('ons_lsoa21_to_ward22') }}
),

-- Mid-2015 population of each 2021 LSOA in each age group, from the 2011 LSOAs that feed it.
lsoa_age_groups as (
    select
        links.lsoa21_code,
        age_group.age_group,
        sum(links.population_weight * age_group.population_2015) as population_2015
    from links
    inner join denominators on denominators.lsoa11_code = links.lsoa11_code
    cross join lateral (
        values
            ('0-15', denominators.population_0_15),
            ('16-59', denominators.population_16_59),
            ('60+', denominators.population_60_plus)
    ) as age_group (age_group, population_2015)
    group by 1, 2
),

shares as (
    select
        lsoas.lsoa21_code,
        lsoas.lsoa21_name,
        lsoas.ward22_code,
        lsoas.ward22_name,
        lsoas.district_code,
        lsoas.district_name,
        lsoa_age_groups.age_group,
        lsoa_age_groups.population_2015,
        lsoa_age_groups.population_2015
            / sum(lsoa_age_groups.population_2015) over (partition by lsoas.district_code, lsoa_age_groups.age_group)
            as district_share
    from lsoas
    inner join lsoa_age_groups on lsoa_age_groups.lsoa21_code = lsoas.lsoa21_code
)

select
    shares.lsoa21_code as lsoa_code,
    shares.lsoa21_name as lsoa_name,
    shares.ward22_code as ward_code,
    shares.ward22_name as ward_name,
    shares.district_code,
    shares.district_name,
    census.age,
    census.sex,
    shares.age_group as iod_age_group,
    cast(census.population * shares.district_share as numeric) as population,
    date '2021-03-21' as reference_date,
    'POP-C21-IOD19' as definition_version  -- seed definitions: population_lsoa_age_sex
from census
inner join shares
    on shares.district_code = census.district_code
    and shares.age_group = case when census.age <= 15 then '0-15' when census.age <= 59 then '16-59' else '60+' end
