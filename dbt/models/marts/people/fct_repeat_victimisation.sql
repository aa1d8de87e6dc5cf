-- Victims of crime by financial quarter and crime category, and how many of them were repeat victims: the
-- victim of two or more crimes in the twelve months to the end of the quarter. Categories come in two schemes
-- (Home Office offence group and police.uk crime type), each with an 'All' row (distinct victims, which are not
-- the sum of the categories: one person can be a victim in several). Crimes count by the date they were recorded,
-- as everywhere else: an offence committed years ago and recorded this quarter is this quarter's (by offence date
-- it would open a quarter the warehouse holds almost nothing of, and stretch the months of data).

with

crimes as (
    select crime_reference, recorded_date, victim_person_key, offence_group, crime_type
    from {{ ref('int_crimes_classified') }}
    where victim_person_key is not null
),

dates as (
    select date_day, financial_year_quarter, quarter_start from {{ ref('dim_date') }}
),

first_crime as materialized (  -- once: inlined, the planner re-ran it for every output row
    select min(recorded_date) as first_recorded_date from crimes
),

victimisations as (
    select
        crimes.*,
        dates.financial_year_quarter,
        dates.quarter_start,
        cast(dates.quarter_start + interval '3 months' - interval '1 day' as date) as quarter_end
    from crimes
    inner join dates on dates.date_day = crimes.recorded_date
),

victim_quarters as (
    -- Each victim once per quarter and category they were a victim in, under each scheme; and once per quarter
    -- for all their crimes (the 'All' row, the same under both schemes: made once here, given to each below).
    select
        category_scheme, crime_category, financial_year_quarter, quarter_start, quarter_end, victim_person_key,
        count(*) as crimes_in_quarter
    from (
        select
            'offence_group' as category_scheme, coalesce(offence_group, 'Unclassified') as crime_category,
            financial_year_quarter, quarter_start, quarter_end, victim_person_key
        from victimisations
        union all
        select
            'police_uk_crime_type', coalesce(crime_type, 'Unclassified'),
            financial_year_quarter, quarter_start, quarter_end, victim_person_key
        from victimisations
        union all
        select 'both schemes', 'All', financial_year_quarter, quarter_start, quarter_end, victim_person_key
        from victimisations
    ) as categorised
    group by category_scheme, crime_category, financial_year_quarter, quarter_start, quarter_end, victim_person_key
),

crimes_in_twelve_months as (
    -- For each victim and quarter: their crimes of any kind (the 'All' rows), and of this category, in the twelve
    -- months to the quarter's end. Those twelve months are the quarter and the three before, so windows over the
    -- victim's quarters sum them (a range frame includes the current quarter's other categories): linear in
    -- victim-quarters, where joining each victim-quarter to the victim's crimes grew quadratically. Both windows
    -- partition by the victim first, so the rows are sorted once, and the second window re-sorts only within
    -- each victim's few rows (at scale 100 the two full sorts of four rows per crime took most of the model).
    -- crime_reference is unique in int_crimes_classified, so counting rows counts distinct crimes.
    select
        victim_quarters.*,
        sum(crimes_in_quarter) over (
            partition by victim_person_key, category_scheme, crime_category
            order by quarter_start
            range between interval '9 months' preceding and current row
        ) as crimes_same_category,
        sum(crimes_in_quarter) filter (where category_scheme = 'both schemes') over (
            partition by victim_person_key
            order by quarter_start
            range between interval '9 months' preceding and current row
        ) as crimes_any_category
    from victim_quarters
),

quarterly as (
    select
        financial_year_quarter,
        quarter_start,
        quarter_end,
        category_scheme,
        crime_category,
        sum(crimes_in_quarter)::bigint as crimes,
        count(*) as victims,
        count(*) filter (where crimes_any_category >= 2) as repeat_victims,
        count(*) filter (where crimes_same_category >= 2) as repeat_victims_same_category
    from crimes_in_twelve_months
    group by financial_year_quarter, quarter_start, quarter_end, category_scheme, crime_category
)

select
    quarterly.financial_year_quarter,
    quarterly.quarter_start,
    scheme.category_scheme,
    quarterly.crime_category,
    quarterly.crimes,
    quarterly.victims,
    quarterly.repeat_victims,
    round(100.0 * quarterly.repeat_victims / quarterly.victims, 1) as repeat_rate_pct,
    quarterly.repeat_victims_same_category,
    round(100.0 * quarterly.repeat_victims_same_category / quarterly.victims, 1) as repeat_rate_same_category_pct,
    -- Fewer than 12 while the warehouse holds less than a year before the quarter's end: rates then undercount.
    least(
        12,
        (extract(year from age(quarterly.quarter_end + 1, date_trunc('month', first_crime.first_recorded_date)))
            * 12
         + extract(month from age(quarterly.quarter_end + 1, date_trunc('month', first_crime.first_recorded_date))))
    )::integer as lookback_months_available
from quarterly
-- The 'All' rows under each scheme; every other row under its own.
inner join (values ('offence_group'), ('police_uk_crime_type')) as scheme (category_scheme)
    on quarterly.category_scheme in (scheme.category_scheme, 'both schemes')
cross join first_crime
