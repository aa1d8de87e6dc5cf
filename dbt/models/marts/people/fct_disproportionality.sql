-- Disproportionality at each stage the partnership watches: records by broad ethnic group and financial year,
-- the rate per 1,000 of the stage's own denominator for that group, the relative rate index (RRI) against
-- White, with a 95% confidence interval (Katz, on the log of the ratio), and the stage's ethnicity completeness.
--
-- Denominators (definition RRI-DENOM-2025, seed definitions):
--   stop_search, sv_victim, sv_perpetrator: residents of the stage's ages (Census 2021 Manchester, single year of
--     age) x the group's Census 2021 share of residents;
--   first_time_entry: YJB first-time entrants (children, by disposal date) per residents aged 10-17, likewise;
--   stop_search_arrest: per search of the same group (the decision after the search);
--   sv_suspect_charged_or_summonsed: per serious-violence suspect of the same group in the year;
--   permanent_exclusion, suspension: per pupil of the same group on roll (distinct pupils in the year's
--     attendance returns, School Census ethnicity).
-- Residual bias: no Census 2021 ethnic group by age table for Manchester is held (searched: shared data and
-- public sources), so the resident-based stages apply the all-age ethnic mix to the stage's age range. Manchester's
-- children are more ethnically diverse than its adults, so for first_time_entry the minority groups' populations
-- are understated and their RRIs overstated (White's population overstated). Records with no stated ethnicity are
-- kept in their own row and left out of every denominator; how many sits beside each row.

with

dates as (
    select date_day, financial_year from {{ ref('dim_date') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

attendance as (
    select * from {{ ref('int_school_attendance') }}
),

searches as (
    -- Self-defined ethnicity where the person gave one (as the Home Office does), else the officer's.
    select search_date as record_date, is_arrest, ethnic_group from {{ ref('int_stop_searches') }}
),

sv_suspects as (
    select recorded_date as record_date, outcome, {{ broad_ethnic_group('suspect_ethnicity') }} as ethnic_group
    from crimes
    where is_serious_violence_mcr and suspect_person_key is not null
),

pupils_on_roll as (
    -- Distinct pupils in the year's attendance returns (the pupils schools have on roll), each once, by the
    -- latest ethnicity stated for them in the year (a return that leaves it blank does not undo an earlier one).
    select distinct on (financial_year, pupil_person_key) financial_year, pupil_person_key, ethnic_group
    from (
        select
            dates.financial_year,
            attendance.pupil_person_key,
            attendance.term_start_date,
            {{ broad_ethnic_group('attendance.ethnicity') }} as ethnic_group
        from attendance
        inner join dates on dates.date_day = attendance.term_start_date
    ) as returns
    order by financial_year, pupil_person_key, ethnic_group = 'Not stated', term_start_date desc
),

stage_records as (
    select 'stop_search' as stage, record_date, ethnic_group from searches

    union all
    select 'stop_search_arrest', record_date, ethnic_group from searches where is_arrest

    union all
    select 'sv_suspect_charged_or_summonsed', record_date, ethnic_group
    from sv_suspects
    where outcome = 'Charged or summonsed'

    union all
    select 'first_time_entry', disposal_date, {{ broad_ethnic_group('ethnicity') }}
    from {{ ref('int_youth_justice_first_time_entrants') }}

    union all
    select
        case when is_permanent_exclusion then 'permanent_exclusion' else 'suspension' end,
        start_date,
        {{ broad_ethnic_group('ethnicity') }}
    from {{ ref('int_education_exclusions') }}
    where is_permanent_exclusion or is_suspension

    union all
    select 'sv_victim', recorded_date, {{ broad_ethnic_group('victim_ethnicity') }}
    from crimes
    where is_serious_violence_mcr and victim_person_key is not null

    union all
    select 'sv_perpetrator', record_date, ethnic_group from sv_suspects
),

records_by_group as (
    select dates.financial_year, stage_records.stage, stage_records.ethnic_group, count(*) as records
    from stage_records
    inner join dates on dates.date_day = stage_records.record_date
    group by 1, 2, 3
),

-- Resident denominators ---------------------------------------------------------------------------------------

stage_ages as (
    -- police.uk records searches from age 10 up; the youth justice system is for ages 10-17.
    select * from (values
        ('stop_search', 10, 120), ('first_time_entry', 10, 17), ('sv_victim', 0, 120), ('sv_perpetrator', 10, 120)
    ) as stage_ages (stage, min_age, max_age)
),

census_ages as (
    select age, population
    from {{ ref('census2021_population_by_age_district') }}
    where district_code = 'E08000003' and sex = 'persons'
),

ethnic_shares as (
    select ethnic_group, residents::numeric / sum(residents) over () as population_share
    from {{ ref('manchester_ethnic_group_census2021') }}
),

resident_denominators as (
    select
        years.financial_year,
        stage_ages.stage,
        ethnic_shares.ethnic_group,
        sum(census_ages.population) * ethnic_shares.population_share as denominator
    from stage_ages
    inner join census_ages on census_ages.age between stage_ages.min_age and stage_ages.max_age
    cross join ethnic_shares
    cross join (select distinct financial_year from records_by_group) as years
    group by 1, 2, 3, ethnic_shares.population_share
),

-- Denominators from the previous decision point, and pupils -------------------------------------------------

record_denominators as (
    select financial_year, 'stop_search_arrest' as stage, ethnic_group, records as denominator
    from records_by_group
    where stage = 'stop_search'
    union all
    select financial_year, 'sv_suspect_charged_or_summonsed', ethnic_group, records
    from records_by_group
    where stage = 'sv_perpetrator'
    union all
    select pupils.financial_year, stages.stage, pupils.ethnic_group, count(*)
    from pupils_on_roll as pupils
    cross join (values ('permanent_exclusion'), ('suspension')) as stages (stage)
    group by 1, 2, 3
),

denominators as (
    select financial_year, stage, ethnic_group, denominator from resident_denominators
    union all
    select financial_year, stage, ethnic_group, denominator from record_denominators where ethnic_group <> 'Not stated'
),

stage_years as (
    select
        financial_year,
        stage,
        sum(records) as stage_records,
        coalesce(sum(records) filter (where ethnic_group = 'Not stated'), 0) as not_stated_records
    from records_by_group
    group by financial_year, stage
),

not_stated_denominators as (
    -- Pupils on roll or suspects with no stated ethnicity: left out of the denominators, and counted.
    select financial_year, stage, denominator as not_stated_denominator
    from record_denominators
    where ethnic_group = 'Not stated'
),

ethnic_groups as (
    select * from (values ('Asian'), ('Black'), ('Mixed'), ('Other'), ('White'), ('Not stated')) as g (ethnic_group)
),

cells as (
    -- Every group in every stage and year that has records, zeros included.
    select
        stage_years.financial_year,
        stage_years.stage,
        ethnic_groups.ethnic_group,
        coalesce(records_by_group.records, 0) as records,
        stage_years.stage_records,
        stage_years.not_stated_records,
        coalesce(not_stated_denominators.not_stated_denominator, 0) as not_stated_denominator,
        case when ethnic_groups.ethnic_group <> 'Not stated' then denominators.denominator end as denominator
    from stage_years
    cross join ethnic_groups
    left join records_by_group using (financial_year, stage, ethnic_group)
    left join denominators using (financial_year, stage, ethnic_group)
    left join not_stated_denominators using (financial_year, stage)
),

rated as (
    select
        cells.*,
        case when denominator > 0 then records::numeric / denominator end as rate,
        max(records) filter (where ethnic_group = 'White') over (partition by financial_year, stage) as white_records,
        max(denominator) filter (where ethnic_group = 'White') over (partition by financial_year, stage)
            as white_denominator
    from cells
),

ratios as (
    select
        rated.*,
        rate / nullif(white_records::numeric / nullif(white_denominator, 0), 0) as rri,
        -- Katz: the standard error of log(RRI) is sqrt(1/a - 1/n1 + 1/b - 1/n0); undefined with a zero count.
        case when records > 0 and white_records > 0 and denominator > 0 and white_denominator > 0 then
            sqrt(greatest(1.0 / records - 1.0 / denominator + 1.0 / white_records - 1.0 / white_denominator, 0))
        end as se_log_rri
    from rated
)

select
    financial_year,
    stage,
    ethnic_group,
    records,
    stage_records,
    round(100.0 * (stage_records - not_stated_records) / stage_records, 1) as ethnicity_completeness_pct,
    not_stated_records as not_stated_records_excluded,
    not_stated_denominator as not_stated_denominator_excluded,
    case
        when stage in ('stop_search', 'first_time_entry', 'sv_victim', 'sv_perpetrator') then 'residents'
        when stage in ('permanent_exclusion', 'suspension') then 'pupils on roll'
        when stage = 'stop_search_arrest' then 'searches'
        else 'serious violence suspects'
    end as denominator_type,
    round(denominator)::bigint as population,
    round(1000 * rate, 3) as rate_per_1000,
    round(rri, 2) as relative_rate_index,
    -- No interval for White against itself.
    case when ethnic_group <> 'White' then round(rri * exp(-1.959964 * se_log_rri), 2) end as rri_lower_95,
    case when ethnic_group <> 'White' then round(rri * exp(1.959964 * se_log_rri), 2) end as rri_upper_95
from ratios
