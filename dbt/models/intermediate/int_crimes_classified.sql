-- One row per recorded crime with the partnership's classifications, its geography and periods. Person-level
-- (victim and suspect keys), so restricted; the crime marts aggregate it.
--
-- Counted by recorded date (definition REC-HOCR), as Home Office statistics are: month_start, the financial year
-- and quarter follow recorded_date, so a closed month does not change when an old offence is reported; the
-- offence date and month stay for analysis (hour of week, historic offences).
--
-- Classified by the definitions in force (seeds definitions, offence_definition_rules): a crime meets a
-- definition when it meets any of the definition's rules for its offence code, weapon, domestic-abuse flag,
-- victim sex and hate strand (dim_offence_definition_rules). A code the partnership has not classified, or a
-- robbery with no victim type (34A business or 34B personal cannot be told), keeps its row with every
-- classification null, never false; the unclassified-offence test names it.
--
-- Incremental by load batch: a run adds only the rows of batches it has not built yet. Staging already keeps
-- the latest version of each crime, so a corrected record in a new batch replaces the earlier one (delete+insert
-- on crime_reference), and a batch whose rows were all superseded adds nothing. A crime whose victim or suspect
-- has a new person id since it was built (record linkage merged or split people) is built again.
{{
    config(
        materialized='incremental',
        unique_key='crime_reference',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['crime_reference'], 'unique': True},
            {'columns': ['batch_id']},
            {'columns': ['offence_date']},
            {'columns': ['recorded_date']},
        ],
        post_hook=["{{ restrict_rows_to_partners('agency') }}"]
    )
}}

{%- set flags = [
    ('victim_based_crime', 'is_victim_based'),
    ('serious_violence_mcr', 'is_serious_violence_mcr'),
    ('serious_violence_duty', 'is_serious_violence_duty'),
    ('neighbourhood_crime', 'is_neighbourhood_crime'),
    ('knife_enabled', 'is_knife_enabled'),
    ('weapon_enabled', 'is_weapon_enabled'),
    ('vawg', 'is_vawg'),
    ('hate_crime', 'is_hate_crime'),
] %}

with

crimes as (
    {{
        batches_not_built(
            ref('stg_police__recorded_crime'),
            unique_key='crime_reference',
            person_columns=['victim_person_key', 'suspect_person_key']
        )
    }}
),

offences as (
    select * from {{ ref('dim_offence_classification') }}
),

offence_rules as (
    select * from {{ ref('dim_offence_definition_rules') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

-- Every rule of every definition the crime meets.
rule_matches as (
    select
        crimes.crime_reference,
        offence_rules.definition_code,
        offence_rules.priority,
        offence_rules.category
    from crimes
    inner join offence_rules
        on offence_rules.ho_offence_code = crimes.ho_offence_code
        and (offence_rules.victim_type is null or offence_rules.victim_type = crimes.victim_type)
        and (
            offence_rules.weapon = 'any'
            or (offence_rules.weapon = 'knife' and crimes.weapon = 'Knife or sharp instrument')
            or (offence_rules.weapon = 'weapon' and crimes.weapon is not null)
        )
        and offence_rules.domestic_abuse in ('any', crimes.domestic_abuse_flag)
        and offence_rules.victim_sex in ('any', crimes.victim_sex)
        and (offence_rules.hate_flagged = 'any' or crimes.hate_strand is not null)
),

definitions_met as (
    select
        crime_reference,
        {%- for definition_code, flag in flags %}
        bool_or(definition_code = '{{ definition_code }}') as {{ flag }},
        {%- endfor %}
        -- A crime's category under a definition: its highest-priority rule's.
        (array_agg(category order by priority, category)
            filter (where definition_code = 'serious_violence_duty'))[1] as serious_violence_type,
        (array_agg(category order by priority, category)
            filter (where definition_code = 'neighbourhood_crime'))[1] as neighbourhood_crime_type,
        (array_agg(category order by priority, category)
            filter (where definition_code = 'weapon_enabled'))[1] as weapon_enabled_type,
        (array_agg(category order by priority, category)
            filter (where definition_code = 'hidden_crime'))[1] as hidden_crime_category,
        (array_agg(category order by priority, category)
            filter (where definition_code = 'vawg'))[1] as vawg_category
    from rule_matches
    group by crime_reference
)

select
    crimes.crime_reference,
    'police' as agency,
    crimes.recorded_date,
    crimes.offence_date,
    cast(date_trunc('month', crimes.offence_date) as date) as offence_month_start,
    -- Periods of the recorded date: the month and quarter the crime is counted in.
    {{ date_period_columns('recorded') }},
    -- Days from offence to recording; historic offences (a year or more) are counted when recorded.
    crimes.recorded_date - crimes.offence_date as days_to_record,
    crimes.recorded_date - crimes.offence_date >= 365 as is_historic_offence,
    -- Hour of the week of the offence, 0 = Monday 00:00-00:59; null when the time is unknown. (From the date
    -- itself: a historic offence may predate dim_date.)
    case
        when crimes.offence_time is not null
            then (cast(extract(isodow from crimes.offence_date) as integer) - 1) * 24 + cast(split_part(crimes.offence_time, ':', 1) as integer)
    end as hour_of_week,
    crimes.ho_offence_code,
    crimes.victim_type,
    crime_offences.ho_class,
    crime_offences.offence_description,
    crimes.crime_type,
    crime_offences.offence_group,
    crime_offences.offence_subgroup,
    crime_offences.offence_type,
    crime_offences.person_property,
    crime_offences.ho_class is not null as is_classified,
    {%- for definition_code, flag in flags %}
    case when crime_offences.ho_class is not null then coalesce(definitions_met.{{ flag }}, false) end as {{ flag }},
    {%- endfor %}
    case when crime_offences.ho_class is not null then crime_offences.offence_type = 'homicide' end as is_homicide,
    case when crime_offences.ho_class is not null then crime_offences.ho_class = '34B' end as is_personal_robbery,
    definitions_met.serious_violence_type,
    definitions_met.neighbourhood_crime_type,
    definitions_met.weapon_enabled_type,
    definitions_met.hidden_crime_category,
    definitions_met.vawg_category,
    crime_offences.sv_mcr_version,
    crime_offences.sv_duty_version,
    crime_offences.victim_based_version,
    crime_offences.neighbourhood_version,
    crime_offences.knife_version,
    crime_offences.weapon_version,
    crime_offences.vawg_version,
    crime_offences.hate_crime_version,
    crime_offences.hidden_crime_version,
    crimes.domestic_abuse_flag = 'Y' as is_domestic_abuse,
    crimes.hate_strand,
    crimes.weapon,
    crimes.night_time_economy_flag = 'Y' as is_night_time_economy,
    crimes.street_community_flag = 'Y' as is_street_community,
    crimes.lsoa_code,
    coalesce(geography.ward_code, 'unmatched') as ward_code,
    coalesce(geography.ward_name, 'LSOA not in the ONS lookup') as ward_name,
    coalesce(geography.locality, 'Unknown') as locality,
    geography.district_name,
    geography.imd_decile,
    coalesce(geography.is_city_centre, false) as is_city_centre,
    crimes.victim_person_key,
    crimes.victim_age,
    crimes.victim_sex,
    crimes.victim_ethnicity,
    case
        when crimes.victim_home_lsoa is null then null
        when crimes.victim_home_lsoa = 'Outside Manchester' then 'Outside Manchester'
        else 'Manchester'
    end as victim_residence,
    crimes.suspect_person_key,
    crimes.suspect_age,
    crimes.suspect_sex,
    crimes.suspect_ethnicity,
    crimes.outcome,
    crimes.batch_id
from crimes
-- Each crime's offence: its code's row, or for a code whose class depends on the victim, the row of its victim
-- type. No match (an unclassified code, a robbery without a victim type) leaves the offence columns null. Joined
-- on the code, not back on crime_reference: a planner that underestimates the crimes (a filtered window in
-- staging) nested-looped that self-join, quadratic in crimes.
left join offences as crime_offences
    on crime_offences.ho_offence_code = crimes.ho_offence_code
    and (crime_offences.victim_type is null or crime_offences.victim_type = crimes.victim_type)
left join definitions_met on definitions_met.crime_reference = crimes.crime_reference
left join geography on geography.lsoa_code = crimes.lsoa_code
left join dates as recorded on recorded.date_day = crimes.recorded_date
