-- One row per 2011 LSOA in Greater Manchester: ward (2019), Manchester locality, district, Greater Manchester,
-- deprivation and the partnership's area flags. Population is the latest resident estimate loaded (Manchester
-- only: the other districts' LSOAs have none).

with

lsoas as (
    select * from {{ ref('ons_lsoa11_to_ward19') }}
),

deprivation as (
    select * from {{ ref('imd2015_lsoa11') }}
),

localities as (
    select * from {{ ref('manchester_localities') }}
),

population as (
    select lsoa_code, sum(population) as population
    from {{ ref('stg_reference__lsoa_population') }}
    where reference_date = (select max(reference_date) from {{ ref('stg_reference__lsoa_population') }})
    group by lsoa_code
)

select
    lsoas.lsoa11_code as lsoa_code,
    lsoas.lsoa11_name as lsoa_name,
    lsoas.ward19_code as ward_code,
    lsoas.ward19_name as ward_name,
    coalesce(localities.locality, 'Outside Manchester') as locality,
    lsoas.district_code,
    lsoas.district_name,
    'Greater Manchester' as combined_authority,
    lsoas.district_code = 'E08000003' as is_manchester,
    coalesce(localities.city_centre = 'Y', false) as is_city_centre,
    coalesce(localities.nte_zone = 'Y', false) as is_night_time_economy_zone,
    coalesce(localities.pilot_area = 'Y', false) as is_pilot_area,
    deprivation.imd_score,
    deprivation.imd_rank,
    deprivation.imd_decile,
    population.population
from lsoas
left join deprivation on deprivation.lsoa11_code = lsoas.lsoa11_code
left join localities on localities.ward19_code = lsoas.ward19_code
left join population on population.lsoa_code = lsoas.lsoa11_code
