-- Victim-based crime per Greater Manchester district and financial year, its share of the Greater Manchester
-- total, beside the district's share of GM residents. The police extract covers Manchester only, so every
-- district (Manchester included, for a like-for-like share) is counted from the police.uk street-level file
-- that GMP publishes for the whole force area (int_street_crime_located: LSOA 2011 or 2021 -> district).
-- A GMP record whose LSOA is missing or not in the GM lookup is not dropped: it is counted in the row
-- district_code 'unmatched' (no residents, no rate), which appears when there are such records.

with

street_crimes as (
    select * from {{ ref('int_street_crime_located') }}
    -- A force's file lists some crimes in its neighbours' LSOAs; count only the rows GMP's area holds.
    where falls_within = 'Greater Manchester Police'
),

crime_types as (
    select * from {{ ref('police_uk_crime_types') }}
),

dates as (
    select distinct month_start, financial_year from {{ ref('dim_date') }}
),

residents as (
    select * from {{ ref('gm_district_population') }}
),

victim_based_by_district as (
    select
        dates.financial_year,
        coalesce(street_crimes.district_code, 'unmatched') as district_code,
        count(*) as victim_based_crimes,
        count(distinct street_crimes.month_start) as months_covered,
        max(crime_types.definition_version) as definition_version
    from street_crimes
    inner join crime_types on crime_types.crime_type = street_crimes.crime_type
    inner join dates on dates.month_start = street_crimes.month_start
    where crime_types.is_victim_based = 'Y'
    group by 1, 2
),

-- Every district in every year, so a district with no crimes shows 0 rather than disappearing.
districts_by_year as (
    select years.financial_year, residents.district_code, residents.district_name, residents.usual_residents
    from (select distinct financial_year from victim_based_by_district) as years
    cross join residents
    union all
    select distinct financial_year, 'unmatched', 'No GM LSOA (not recorded or not in the lookup)', null::integer
    from victim_based_by_district
    where district_code = 'unmatched'
),

counted as (
    select
        districts_by_year.financial_year,
        districts_by_year.district_code,
        districts_by_year.district_name,
        coalesce(victim_based_by_district.victim_based_crimes, 0) as victim_based_crimes,
        sum(coalesce(victim_based_by_district.victim_based_crimes, 0))
            over (partition by districts_by_year.financial_year) as gm_victim_based_crimes,
        districts_by_year.usual_residents,
        sum(districts_by_year.usual_residents) over (partition by districts_by_year.financial_year)
            as gm_usual_residents,
        max(victim_based_by_district.months_covered) over (partition by districts_by_year.financial_year)
            as months_covered,
        max(victim_based_by_district.definition_version) over (partition by districts_by_year.financial_year)
            as definition_version
    from districts_by_year
    left join victim_based_by_district
        on victim_based_by_district.financial_year = districts_by_year.financial_year
        and victim_based_by_district.district_code = districts_by_year.district_code
)

select
    financial_year,
    district_code,
    district_name,
    victim_based_crimes,
    gm_victim_based_crimes,
    round(100.0 * victim_based_crimes / nullif(gm_victim_based_crimes, 0), 1) as share_of_gm_pct,
    usual_residents,
    gm_usual_residents,
    round(100.0 * usual_residents / gm_usual_residents, 1) as population_share_pct,
    -- Per 1,000 residents over the months loaded (a part year gives a part-year rate: see months_covered).
    round(1000.0 * victim_based_crimes / usual_residents, 2) as rate_per_1000,
    round(1000.0 * gm_victim_based_crimes / gm_usual_residents, 2) as gm_rate_per_1000,
    months_covered,
    definition_version,
    'ONS Census 2021 usual residents' as population_source
from counted
