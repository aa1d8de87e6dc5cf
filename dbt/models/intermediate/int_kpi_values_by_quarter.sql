-- The value of each scorecard KPI (seed kpi_definitions) per financial quarter, for the city and each of its
-- three localities: numerator, denominator and value. Aggregates only. A KPI that a source cannot place in a
-- locality (exclusions are recorded by school, treatment exits have no area) is given for the city only.

with

dates as not materialized (  -- inlined, so each join can use dim_date's index on date_day
    select * from {{ ref('dim_date') }}
),

geography as (
    select * from {{ ref('dim_geography') }} where is_manchester
),

-- Each Manchester LSOA counts towards the whole city and towards its locality.
places as (
    select lsoa_code, 'City' as geography_level, 'Manchester' as geography from geography
    union all
    select lsoa_code, 'Locality', locality from geography
),

-- Residents: Census 2021 by single year of age on 2021 LSOAs (dim_population, derived from real Census and IoD
-- figures), the same for every quarter.
latest_population as (
    select * from {{ ref('dim_population') }}
),

residents as (
    select
        places.geography_level,
        places.geography,
        sum(latest_population.population) as residents,
        sum(latest_population.population) filter (where latest_population.age between 10 and 17) as residents_10_17
    from latest_population
    inner join places using (lsoa_code)
    group by 1, 2
),

crimes as (
    select
        places.geography_level,
        places.geography,
        crimes.financial_year_quarter,
        count(*) filter (where crimes.is_serious_violence_mcr) as sv_mcr,
        count(*) filter (where crimes.is_serious_violence_duty) as sv_duty,
        count(*) filter (where crimes.is_victim_based) as victim_based,
        count(*) filter (where crimes.is_neighbourhood_crime) as neighbourhood,
        count(*) filter (where crimes.is_domestic_abuse) as domestic_abuse,
        count(*) filter (where crimes.hate_strand is not null) as hate
    from {{ ref('int_crimes_classified') }} as crimes
    inner join places using (lsoa_code)
    group by 1, 2, 3
),

asb_incidents as (
    select places.geography_level, places.geography, dates.financial_year_quarter, count(*) as incidents
    from {{ ref('stg_police__asb_incidents') }} as asb
    inner join places using (lsoa_code)
    inner join dates on dates.date_day = cast(asb.incident_datetime as date)
    group by 1, 2, 3
),

first_time_entrants as (
    -- The YJB measure (int_youth_justice_fte_rolling): children, not case rows; cautions and convictions only;
    -- by disposal date; the twelve months to the quarter's end per 100,000 aged 10-17 (Census 2021). The same
    -- model feeds fct_youth_justice_fte, so the scorecard and the mart agree.
    select geography_level, geography, financial_year_quarter, first_time_entrants_12m as entrants, population_10_17
    from {{ ref('int_youth_justice_fte_rolling') }}
    where geography_level in ('City', 'Locality')
),

permanent_exclusions as (
    select 'City' as geography_level, 'Manchester' as geography, dates.financial_year_quarter, count(*) as exclusions
    from {{ ref('stg_education__exclusions') }} as exclusions
    inner join dates on dates.date_day = exclusions.start_date
    where exclusions.exclusion_type = 'PERM'
    group by 1, 2, 3
),

assault_attendances as (
    -- Every attendance at the city's A&E departments counts for the city; for a locality, those assaulted in it.
    select
        coalesce(geography.locality, 'Manchester') as geography,
        case when geography.locality is null then 'City' else 'Locality' end as geography_level,
        dates.financial_year_quarter,
        count(*) as attendances
    from {{ ref('stg_health__ae_assault_attendances') }} as attendances
    inner join dates on dates.date_day = cast(attendances.arrival_datetime as date)
    left join geography on geography.lsoa_code = attendances.incident_lsoa_code
    where attendances.age between 10 and 25
    group by grouping sets ((dates.financial_year_quarter), (dates.financial_year_quarter, geography.locality))
    having grouping(geography.locality) = 1 or geography.locality is not null
),

alcohol_admissions as (
    -- Annualised: admissions in the months delivered, scaled to twelve months.
    select
        places.geography_level,
        places.geography,
        dates.financial_year_quarter,
        sum(admissions.admissions) as admissions,
        count(distinct admissions.month) as months
    from {{ ref('stg_health__alcohol_admissions') }} as admissions
    inner join places using (lsoa_code)
    inner join dates on dates.date_day = admissions.month
    group by 1, 2, 3
),

alcohol_exits as (
    select
        'City' as geography_level,
        'Manchester' as geography,
        dates.financial_year_quarter,
        count(*) filter (where episodes.exit_reason = 'Successful completion') as successful,
        count(*) as exits
    from {{ ref('stg_health__treatment_episodes') }} as episodes
    inner join dates on dates.date_day = episodes.exit_date
    where episodes.substance_group = 'Alcohol only' and episodes.exit_reason is not null
    group by 1, 2, 3
),

kpi_values as (
    select crimes.geography_level, crimes.geography, crimes.financial_year_quarter, kpi.kpi_code,
           kpi.numerator, kpi.denominator, kpi.multiplier
    from crimes
    inner join residents using (geography_level, geography)
    cross join lateral (values
        ('SV_MCR', crimes.sv_mcr, residents.residents, 100000),
        ('SV_DUTY', crimes.sv_duty, residents.residents, 100000),
        ('VBC', crimes.victim_based, residents.residents, 1000),
        ('NBH', crimes.neighbourhood, residents.residents, 1000),
        ('DA', crimes.domestic_abuse, null, null),
        ('HATE', crimes.hate, null, null)
    ) as kpi (kpi_code, numerator, denominator, multiplier)

    union all
    select asb.geography_level, asb.geography, asb.financial_year_quarter, 'ASB_POLICE', asb.incidents,
           residents.residents, 1000
    from asb_incidents as asb
    inner join residents using (geography_level, geography)

    union all
    select geography_level, geography, financial_year_quarter, 'FTE', entrants, population_10_17, 100000
    from first_time_entrants

    union all
    select geography_level, geography, financial_year_quarter, 'PERM_EXCL', exclusions, null, null
    from permanent_exclusions

    union all
    select geography_level, geography, financial_year_quarter, 'AE_10_25', attendances, null, null
    from assault_attendances

    union all
    select alc.geography_level, alc.geography, alc.financial_year_quarter, 'ALC_ADM', alc.admissions,
           residents.residents * alc.months / 12.0, 100000
    from alcohol_admissions as alc
    inner join residents using (geography_level, geography)

    union all
    select geography_level, geography, financial_year_quarter, 'ALC_EXIT', successful, exits, 100
    from alcohol_exits
)

select
    kpi_code,
    financial_year_quarter,
    geography_level,
    geography,
    numerator,
    denominator,
    -- A count KPI (no denominator) is its own value.
    case
        when multiplier is null then numerator
        when denominator > 0 then round(numerator * multiplier / denominator, 2)
    end as value
from kpi_values
