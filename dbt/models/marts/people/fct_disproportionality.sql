-- Disproportionality at each stage the partnership watches (stop and search and its arrests, charge among
-- serious-violence suspects, first-time entry to youth justice, exclusions and suspensions, serious-violence
-- victims and perpetrators): records by broad ethnic group and financial year, the rate per 1,000 residents of
-- that group, the relative rate index against White residents, and the stage's ethnicity completeness.
--
-- The population has no ethnicity: each group's population is its Census 2021 share of Manchester's residents
-- (seed manchester_ethnic_group_census2021) applied to the loaded residents in the stage's age range.
-- Records, not people: a person stopped twice counts twice. Rates cover the months loaded, not a whole year.

with

dates as (
    select date_day, financial_year from {{ ref('dim_date') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

stage_records as (
    select
        'stop_search' as stage,
        cast(search_datetime as date) as record_date,
        -- Self-defined ethnicity where the person gave one (as the Home Office does), else the officer's.
        case
            when nullif(trim(self_defined_ethnicity), '') is not null
                then {{ broad_ethnic_group('self_defined_ethnicity') }}
            else {{ broad_ethnic_group('officer_defined_ethnicity') }}
        end as ethnic_group
    from {{ ref('stg_police__stop_search') }}

    union all
    select
        'stop_search_arrest',
        cast(search_datetime as date),
        case
            when nullif(trim(self_defined_ethnicity), '') is not null
                then {{ broad_ethnic_group('self_defined_ethnicity') }}
            else {{ broad_ethnic_group('officer_defined_ethnicity') }}
        end
    from {{ ref('stg_police__stop_search') }}
    where outcome = 'Arrest'

    union all
    select 'sv_suspect_charged_or_summonsed', recorded_date, {{ broad_ethnic_group('suspect_ethnicity') }}
    from crimes
    where is_serious_violence_mcr and suspect_person_key is not null and outcome = 'Charged or summonsed'

    union all
    select 'first_time_entry', offence_date, {{ broad_ethnic_group('ethnicity') }}
    from {{ ref('stg_youth_justice__cases') }}
    where first_time_entrant = 'Y'

    union all
    select
        case when exclusion_type = 'PERM' then 'permanent_exclusion' else 'suspension' end,
        start_date,
        {{ broad_ethnic_group('ethnicity') }}
    from {{ ref('stg_education__exclusions') }}

    union all
    select 'sv_victim', recorded_date, {{ broad_ethnic_group('victim_ethnicity') }}
    from crimes
    where is_serious_violence_mcr and victim_person_key is not null

    union all
    select 'sv_perpetrator', recorded_date, {{ broad_ethnic_group('suspect_ethnicity') }}
    from crimes
    where is_serious_violence_mcr and suspect_person_key is not null
),

stage_ages as (
    -- The residents each stage's rate is per: children 10-17 for youth justice, school age (5-16) for
    -- exclusions, everyone otherwise.
    select * from (values
        ('stop_search', 0, 120), ('stop_search_arrest', 0, 120), ('sv_suspect_charged_or_summonsed', 0, 120),
        ('first_time_entry', 10, 17), ('permanent_exclusion', 5, 16), ('suspension', 5, 16),
        ('sv_victim', 0, 120), ('sv_perpetrator', 0, 120)
    ) as stage_ages (stage, min_age, max_age)
),

residents as (
    select age, sum(population) as population
    from {{ ref('stg_reference__lsoa_population') }}
    where reference_date = (select max(reference_date) from {{ ref('stg_reference__lsoa_population') }})
    group by age
),

ethnic_shares as (
    select ethnic_group, residents::numeric / sum(residents) over () as population_share
    from {{ ref('manchester_ethnic_group_census2021') }}
),

ethnic_groups as (
    select ethnic_group from ethnic_shares
    union all
    select 'Not stated'
),

stage_population as (
    select
        stage_ages.stage,
        ethnic_shares.ethnic_group,
        sum(residents.population) * ethnic_shares.population_share as population
    from stage_ages
    inner join residents on residents.age between stage_ages.min_age and stage_ages.max_age
    cross join ethnic_shares
    group by stage_ages.stage, ethnic_shares.ethnic_group, ethnic_shares.population_share
),

records_by_group as (
    select dates.financial_year, stage_records.stage, stage_records.ethnic_group, count(*) as records
    from stage_records
    inner join dates on dates.date_day = stage_records.record_date
    group by 1, 2, 3
),

stage_years as (
    select
        financial_year,
        stage,
        sum(records) as stage_records,
        sum(records) filter (where ethnic_group <> 'Not stated') as stated_records
    from records_by_group
    group by financial_year, stage
),

cells as (
    -- Every group in every stage and year that has records, zeros included.
    select
        stage_years.financial_year,
        stage_years.stage,
        ethnic_groups.ethnic_group,
        coalesce(records_by_group.records, 0) as records,
        stage_years.stage_records,
        stage_years.stated_records,
        stage_population.population
    from stage_years
    cross join ethnic_groups
    left join records_by_group using (financial_year, stage, ethnic_group)
    left join stage_population using (stage, ethnic_group)
),

rated as (
    select
        cells.*,
        1000.0 * records / nullif(population, 0) as rate
    from cells
)

select
    financial_year,
    stage,
    ethnic_group,
    records,
    stage_records,
    round(100.0 * coalesce(stated_records, 0) / stage_records, 1) as ethnicity_completeness_pct,
    round(population)::bigint as population,
    round(rate, 3) as rate_per_1000,
    -- Relative rate index: the group's rate over White residents' rate in the same stage and year.
    round(rate / nullif(max(rate) filter (where ethnic_group = 'White') over (partition by financial_year, stage), 0), 2)
        as relative_rate_index
from rated
