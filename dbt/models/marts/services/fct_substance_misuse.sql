-- Drug and alcohol indicators by financial year and financial quarter, each beside its England comparator
-- (seed england_comparators) where one is published. Serves "There were an estimated 1,066 per 100,000
-- hospital admission episodes for alcohol specific conditions in Manchester in 2019/20. This compares with a
-- rate of 644 per 100,000 in England." and "During 2020/21 59% of alcohol users left treatment successfully,
-- as a proportion of all exits. This compares with 62% in England."
--
-- One row per period x indicator x substance group ('All' where the indicator has no split):
--   alcohol_specific_admissions_per_100k  admissions / Manchester residents x 100,000, annualised
--   successful_treatment_exits_pct        successful completions / all exits in the period, x 100
--   criminal_justice_referrals_pct        episodes referred by criminal justice / all episodes started, x 100

with

admissions as (
    select * from {{ ref('stg_health__alcohol_admissions') }}
),

population as (
    select * from {{ ref('stg_reference__lsoa_population') }}
),

episodes as (
    select * from {{ ref('stg_health__treatment_episodes') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

comparators as (
    select * from {{ ref('england_comparators') }}
),

-- Each month's admissions in Manchester LSOAs, with the financial periods the month falls in.
admissions_dated as (
    select
        dates.financial_year,
        dates.financial_year_start,
        dates.financial_year_quarter,
        admissions.month,
        admissions.admissions
    from admissions
    inner join geography on geography.lsoa_code = admissions.lsoa_code and geography.is_manchester
    inner join dates on dates.date_day = admissions.month
),

-- Manchester's resident population (all ages) at each estimate date.
population_by_estimate as (
    select population.reference_date, sum(population.population) as residents
    from population
    inner join geography on geography.lsoa_code = population.lsoa_code and geography.is_manchester
    group by population.reference_date
),

admissions_by_period as (
    select
        'Financial year' as period_type,
        financial_year as period,
        financial_year,
        min(financial_year_start) as financial_year_start,
        sum(admissions) as admissions,
        count(distinct month) as months_covered
    from admissions_dated
    group by financial_year
    union all
    select
        'Financial quarter',
        financial_year_quarter,
        financial_year,
        min(financial_year_start),
        sum(admissions),
        count(distinct month)
    from admissions_dated
    group by financial_year_quarter, financial_year
),

admission_rates as (
    select
        admissions_by_period.period_type,
        admissions_by_period.period,
        admissions_by_period.financial_year,
        'alcohol_specific_admissions_per_100k' as indicator,
        'All' as substance_group,
        admissions_by_period.admissions as numerator,
        residents.residents as denominator,
        admissions_by_period.months_covered,
        -- Annualised: scaled by 12 / months with data, so a part year (or a quarter) reads as a yearly rate
        -- comparable with the England figure. Assumes the missing months run at the months' average rate.
        round(
            100000.0 * admissions_by_period.admissions / residents.residents
            * 12 / admissions_by_period.months_covered,
            1
        ) as value
    from admissions_by_period
    -- The mid-year estimate of the year the financial year starts in (ONS estimates are for 30 June); failing
    -- that the latest earlier one, failing that the earliest loaded.
    left join lateral (
        select population_by_estimate.residents
        from population_by_estimate
        order by
            population_by_estimate.reference_date
                > make_date(admissions_by_period.financial_year_start, 6, 30),
            abs(population_by_estimate.reference_date - make_date(admissions_by_period.financial_year_start, 6, 30))
        limit 1
    ) as residents on true
),

exits_dated as (
    select
        dates.financial_year,
        dates.financial_year_quarter,
        episodes.substance_group,
        episodes.exit_reason = 'Successful completion' as is_successful,
        dates.month_start
    from episodes
    inner join dates on dates.date_day = episodes.exit_date
),

-- By exit period; the cube adds the 'All' substances row.
exits_by_period as (
    select
        'Financial year' as period_type,
        financial_year as period,
        financial_year,
        coalesce(substance_group, 'All') as substance_group,
        count(*) filter (where is_successful) as successful_exits,
        count(*) as exits,
        count(distinct month_start) as months_covered
    from exits_dated
    group by financial_year, cube(substance_group)
    union all
    select
        'Financial quarter',
        financial_year_quarter,
        financial_year,
        coalesce(substance_group, 'All'),
        count(*) filter (where is_successful),
        count(*),
        count(distinct month_start)
    from exits_dated
    group by financial_year_quarter, financial_year, cube(substance_group)
),

starts_dated as (
    select
        dates.financial_year,
        dates.financial_year_quarter,
        episodes.substance_group,
        episodes.referral_source = 'Criminal justice' as is_criminal_justice_referral,
        dates.month_start
    from episodes
    inner join dates on dates.date_day = episodes.start_date
),

-- Referrals into treatment are episodes started, by their start period and referral source.
referrals_by_period as (
    select
        'Financial year' as period_type,
        financial_year as period,
        financial_year,
        coalesce(substance_group, 'All') as substance_group,
        count(*) filter (where is_criminal_justice_referral) as criminal_justice_referrals,
        count(*) as referrals,
        count(distinct month_start) as months_covered
    from starts_dated
    group by financial_year, cube(substance_group)
    union all
    select
        'Financial quarter',
        financial_year_quarter,
        financial_year,
        coalesce(substance_group, 'All'),
        count(*) filter (where is_criminal_justice_referral),
        count(*),
        count(distinct month_start)
    from starts_dated
    group by financial_year_quarter, financial_year, cube(substance_group)
),

indicators as (
    select * from admission_rates
    union all
    select
        period_type,
        period,
        financial_year,
        'successful_treatment_exits_pct',
        substance_group,
        successful_exits,
        exits,
        months_covered,
        round(100.0 * successful_exits / exits, 1)
    from exits_by_period
    union all
    select
        period_type,
        period,
        financial_year,
        'criminal_justice_referrals_pct',
        substance_group,
        criminal_justice_referrals,
        referrals,
        months_covered,
        round(100.0 * criminal_justice_referrals / referrals, 1)
    from referrals_by_period
)

select
    indicators.period_type,
    indicators.period,
    indicators.financial_year,
    indicators.indicator,
    indicators.substance_group,
    indicators.numerator::bigint as numerator,
    indicators.denominator::bigint as denominator,
    indicators.months_covered::int as months_covered,
    indicators.value,
    case indicators.indicator
        when 'alcohol_specific_admissions_per_100k' then 'per 100,000 residents a year'
        when 'successful_treatment_exits_pct' then '% of exits'
        else '% of referrals into treatment'
    end as unit,
    comparator.value as england_value,
    comparator.period as england_period,
    comparator.source as england_source
from indicators
-- The England figure for the same financial year if published, else the latest earlier one (its period is
-- shown beside it, so a reader can see when it is not like for like).
left join lateral (
    select comparators.value, comparators.period, comparators.source
    from comparators
    where comparators.indicator = indicators.indicator
      and comparators.substance_group = indicators.substance_group
      and comparators.period <= indicators.financial_year
    order by comparators.period desc
    limit 1
) as comparator on true
