-- Drug and alcohol indicators by financial year and financial quarter, each with its 95% confidence interval
-- and beside its England comparator (seed england_comparators) where one is published, with OHID's judgement
-- of the difference. Serves "There were an estimated 1,066 per 100,000 hospital admission episodes for alcohol
-- specific conditions in Manchester in 2019/20. This compares with a rate of 644 per 100,000 in England." and
-- "During 2020/21 59% of alcohol users left treatment successfully, as a proportion of all exits. This
-- compares with 62% in England."
--
-- One row per period x indicator x substance group ('All' where the indicator has no split):
--   alcohol_specific_admissions_per_100k  directly age-standardised rate per 100,000 a year (2013 European
--                                         Standard Population, Dobson limits), as OHID's Local Alcohol Profiles
--                                         compute England's 644; the crude rate is kept beside it
--   successful_treatment_exits_pct        successful completions / all exits in the period, x 100 (Wilson)
--   criminal_justice_referrals_pct        episodes referred by criminal justice / all episodes started (Wilson)
--
-- Age: the extract gives six bands (0-17, 18-24, 25-34, 35-49, 50-64, 65+), coarser than ESP 2013's 19 and not
-- on its five-year boundaries (15-19 is split 15-17 / 18-19). Each extract band is standardised with the
-- standard population of its single years of age, ESP's five-year bands spread evenly over their years (90+
-- whole at 90): weights 19,300 / 8,200 / 12,500 / 21,000 / 19,500 / 19,500, total 100,000. The rate is assumed
-- flat within an extract band, so the DSR is an approximation of the 19-band one (close where the city's age
-- mix inside a band is like the standard's; Manchester's many 18-24s fall in one band of their own).
-- Denominator: Census 2021 usual residents of Manchester (E08000003) by single year of age (seed
-- census2021_population_by_age_district), for every period until mid-year estimates by age are loaded.

with

admissions as (
    select * from {{ ref('int_alcohol_admissions') }}
),

census as (
    select * from {{ ref('census2021_population_by_age_district') }}
),

esp as (
    select * from {{ ref('esp2013') }}
),

episodes as (
    select * from {{ ref('int_treatment_episodes') }}
),

comparators as (
    select * from {{ ref('england_comparators') }}
),

-- The extract's age bands (the health__alcohol_admissions contract; stg_health__alcohol_admissions tests them
-- with accepted_values), as single-year ranges; 65+ is open (Census 2021's top age is 90, "90 and over").
admission_age_bands as (
    select * from (values
        ('0-17', 0, 17), ('18-24', 18, 24), ('25-34', 25, 34), ('35-49', 35, 49), ('50-64', 50, 64), ('65+', 65, 90)
    ) as t (age_band, min_age, max_age)
),

-- ESP 2013 by single year of age: each five-year band's standard population spread evenly over its years.
esp_by_age as (
    select
        age,
        esp.standard_population::numeric / (coalesce(esp.max_age, esp.min_age) - esp.min_age + 1) as standard_population
    from esp
    cross join lateral generate_series(esp.min_age, coalesce(esp.max_age, esp.min_age)) as age
),

manchester_by_age as (
    select age, population
    from census
    where district_code = 'E08000003' and sex = 'persons'
),

-- Per extract band: the standard population (weight) and Manchester's residents.
band_populations as (
    select
        bands.age_band,
        (select sum(esp_by_age.standard_population) from esp_by_age
         where esp_by_age.age between bands.min_age and bands.max_age) as standard_population,
        (select sum(manchester_by_age.population) from manchester_by_age
         where manchester_by_age.age between bands.min_age and bands.max_age) as residents
    from admission_age_bands as bands
),

-- Each month's admissions of residents of Manchester LSOAs (an unmatched or missing LSOA is not Manchester's).
admissions_dated as (
    select financial_year, financial_year_quarter, month, age_band, admissions
    from admissions
    where is_manchester
),

admission_periods as (
    select
        'Financial year' as period_type,
        financial_year as period,
        financial_year,
        count(distinct month) as months_covered
    from admissions_dated
    group by financial_year
    union all
    select 'Financial quarter', financial_year_quarter, financial_year, count(distinct month)
    from admissions_dated
    group by financial_year_quarter, financial_year
),

admissions_by_period_band as (
    select 'Financial year' as period_type, financial_year as period, age_band, sum(admissions) as admissions
    from admissions_dated
    group by financial_year, age_band
    union all
    select 'Financial quarter', financial_year_quarter, age_band, sum(admissions)
    from admissions_dated
    group by financial_year_quarter, age_band
),

-- Every band in every period (no admissions: 0), with its person-years at risk: residents x months / 12, so
-- a part year or a quarter reads as a yearly rate comparable with England's (the missing months assumed to
-- run at the months' average rate).
admissions_by_band as (
    select
        periods.period_type,
        periods.period,
        periods.financial_year,
        periods.months_covered,
        band_populations.age_band,
        coalesce(counts.admissions, 0) as admissions,
        band_populations.residents,
        band_populations.residents * periods.months_covered / 12.0 as person_years,
        band_populations.standard_population
    from admission_periods as periods
    cross join band_populations
    left join admissions_by_period_band as counts
        on counts.period_type = periods.period_type
        and counts.period = periods.period
        and counts.age_band = band_populations.age_band
),

admission_rates as (
    select
        period_type,
        period,
        financial_year,
        'alcohol_specific_admissions_per_100k' as indicator,
        'All' as substance_group,
        sum(admissions) as numerator,
        sum(residents) as denominator,
        max(months_covered) as months_covered,
        {{ dsr_value('admissions', 'person_years', 'standard_population') }} as value,
        {{ dsr_lower('admissions', 'person_years', 'standard_population') }} as lower_95,
        {{ dsr_upper('admissions', 'person_years', 'standard_population') }} as upper_95,
        {{ crude_rate('sum(admissions)', 'sum(person_years)') }} as crude_value,
        {{ crude_rate_lower('sum(admissions)', 'sum(person_years)') }} as crude_lower_95,
        {{ crude_rate_upper('sum(admissions)', 'sum(person_years)') }} as crude_upper_95
    from admissions_by_band
    group by period_type, period, financial_year
),

exits_dated as (
    select
        exit_financial_year as financial_year,
        exit_financial_year_quarter as financial_year_quarter,
        substance_group,
        is_successful_exit as is_successful,
        exit_month as month_start
    from episodes
    where exit_financial_year is not null  -- exited (and dated)
),

starts_dated as (
    select
        start_financial_year as financial_year,
        start_financial_year_quarter as financial_year_quarter,
        substance_group,
        is_criminal_justice_referral,
        start_month as month_start
    from episodes
    where start_financial_year is not null
),

-- Successful exits by exit period; referrals into treatment are episodes started, by their start period and
-- referral source.
indicators as (
    select * from admission_rates
    union all
    {{ percentage_by_period_and_substance('exits_dated', 'is_successful', 'successful_treatment_exits_pct') }}
    union all
    {{ percentage_by_period_and_substance('starts_dated', 'is_criminal_justice_referral', 'criminal_justice_referrals_pct') }}
),

-- The England figure for the same financial year if published, else the latest earlier one (its period is
-- shown beside it, so a reader can see when it is not like for like), and only of the same kind of figure.
compared as (
    select
        indicators.*,
        comparator.value as england_value,
        comparator.value_type as england_value_type,
        comparator.period as england_period,
        comparator.source as england_source,
        comparator.source_url as england_source_url
    from indicators
    left join lateral (
        select comparators.*
        from comparators
        where comparators.indicator = indicators.indicator
          and comparators.substance_group = indicators.substance_group
          and comparators.period <= indicators.financial_year
          and comparators.value_type = case indicators.indicator
              when 'alcohol_specific_admissions_per_100k' then 'Directly age-standardised rate per 100000 a year'
              when 'successful_treatment_exits_pct' then 'Percentage of exits'
              else 'Percentage of referrals'
          end
        order by comparators.period desc
        limit 1
    ) as comparator on true
)

select
    period_type,
    period,
    financial_year,
    indicator,
    substance_group,
    numerator::bigint as numerator,
    denominator::bigint as denominator,
    months_covered::int as months_covered,
    round(value, 1) as value,
    round(lower_95, 1) as lower_95,
    round(upper_95, 1) as upper_95,
    case indicator
        when 'alcohol_specific_admissions_per_100k'
            then 'Directly age-standardised rate per 100000 a year (ESP 2013, Dobson 95% limits)'
        else 'Percentage (Wilson 95% limits)'
    end as value_type,
    case indicator
        when 'alcohol_specific_admissions_per_100k' then 'per 100,000 residents a year'
        when 'successful_treatment_exits_pct' then '% of exits'
        else '% of referrals into treatment'
    end as unit,
    round(crude_value, 1) as crude_value,
    round(crude_lower_95, 1) as crude_lower_95,
    round(crude_upper_95, 1) as crude_upper_95,
    england_value,
    england_value_type,
    england_period,
    england_source,
    england_source_url,
    -- OHID's comparison: England outside Manchester's 95% interval is a significant difference.
    {{ compare_with_comparator('lower_95', 'upper_95', 'england_value') }} as comparison_with_england
from compared
