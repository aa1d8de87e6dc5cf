-- Ward and locality profiles: one row per Manchester ward and financial year with the main indicators side
-- by side (recorded crime, victim-based crime, serious violence under both definitions, neighbourhood crime,
-- domestic abuse, hate crime, police-recorded ASB) and each as a rate per 1,000 residents; with a row per
-- locality (ward_code 'All') and for the city (locality and ward_code 'All'). For the ward leadership teams
-- and Elected Members (wards) and the locality footprints (North, Central, South).

with

geography as (
    select * from {{ ref('dim_geography') }}
    where is_manchester
),

wards as (
    select ward_code, max(ward_name) as ward_name, max(locality) as locality, sum(population) as population
    from geography
    group by ward_code
),

crimes as (
    select
        ward_code,
        financial_year,
        count(*) as crimes,
        count(*) filter (where is_victim_based) as victim_based_crimes,
        count(*) filter (where is_serious_violence_mcr) as serious_violence_mcr,
        count(*) filter (where is_serious_violence_duty) as serious_violence_duty,
        count(*) filter (where is_neighbourhood_crime) as neighbourhood_crimes,
        count(*) filter (where is_domestic_abuse) as domestic_abuse_crimes,
        count(*) filter (where hate_strand is not null) as hate_crimes,
        count(distinct month_start) as months
    from {{ ref('int_crimes_classified') }}
    where lsoa_code in (select lsoa_code from geography)
    group by ward_code, financial_year
),

asb as (
    select ward_code, financial_year, count(*) as asb_incidents
    from {{ ref('int_asb_incidents_located') }}
    where lsoa_code in (select lsoa_code from geography)
    group by ward_code, financial_year
),

ward_years as (
    select
        wards.locality,
        wards.ward_code,
        wards.ward_name,
        wards.population,
        years.financial_year,
        coalesce(crimes.crimes, 0) as crimes,
        coalesce(crimes.victim_based_crimes, 0) as victim_based_crimes,
        coalesce(crimes.serious_violence_mcr, 0) as serious_violence_mcr,
        coalesce(crimes.serious_violence_duty, 0) as serious_violence_duty,
        coalesce(crimes.neighbourhood_crimes, 0) as neighbourhood_crimes,
        coalesce(crimes.domestic_abuse_crimes, 0) as domestic_abuse_crimes,
        coalesce(crimes.hate_crimes, 0) as hate_crimes,
        coalesce(asb.asb_incidents, 0) as asb_incidents,
        years.months_of_data
    from wards
    cross join (
        -- Every ward in every year the warehouse holds crimes for, with none where it had none.
        select financial_year, max(months) as months_of_data from crimes group by financial_year
    ) as years
    left join crimes using (ward_code, financial_year)
    left join asb using (ward_code, financial_year)
),

areas as (
    select
        financial_year,
        case when grouping(locality) = 1 then 'All' else locality end as locality,
        case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
        case
            when grouping(locality) = 1 then 'Manchester'
            when grouping(ward_code) = 1 then locality
            else max(ward_name)
        end as area_name,
        max(months_of_data) as months_of_data,
        sum(population) as population,
        sum(crimes)::bigint as crimes,
        sum(victim_based_crimes)::bigint as victim_based_crimes,
        sum(serious_violence_mcr)::bigint as serious_violence_mcr,
        sum(serious_violence_duty)::bigint as serious_violence_duty,
        sum(neighbourhood_crimes)::bigint as neighbourhood_crimes,
        sum(domestic_abuse_crimes)::bigint as domestic_abuse_crimes,
        sum(hate_crimes)::bigint as hate_crimes,
        sum(asb_incidents)::bigint as asb_incidents
    from ward_years
    group by financial_year, rollup(locality, ward_code)
)

select
    areas.*,
    round(1000.0 * crimes / nullif(population, 0), 2) as crimes_per_1000,
    round(1000.0 * victim_based_crimes / nullif(population, 0), 2) as victim_based_crimes_per_1000,
    round(1000.0 * serious_violence_mcr / nullif(population, 0), 2) as serious_violence_mcr_per_1000,
    round(1000.0 * serious_violence_duty / nullif(population, 0), 2) as serious_violence_duty_per_1000,
    round(1000.0 * neighbourhood_crimes / nullif(population, 0), 2) as neighbourhood_crimes_per_1000,
    round(1000.0 * domestic_abuse_crimes / nullif(population, 0), 2) as domestic_abuse_crimes_per_1000,
    round(1000.0 * hate_crimes / nullif(population, 0), 2) as hate_crimes_per_1000,
    round(1000.0 * asb_incidents / nullif(population, 0), 2) as asb_incidents_per_1000
from areas
