-- The offence rules of every definition in force (seed offence_definition_rules, versions in seed definitions
-- with valid_to null), matched to the offence codes they cover: one row per (code, victim type, rule). A rule
-- names its offences by ONS group, sub-group, Home Office class or the partnership's offence type, and keeps the
-- conditions that depend on the crime (weapon, domestic abuse, victim sex, hate flag) for int_crimes_classified
-- to test. Adding a definition version is adding rows to the two seeds; no SQL changes.

with

offences as (
    select * from {{ ref('dim_offence_classification') }}
),

rules as (
    select * from {{ ref('offence_definition_rules') }}
),

definitions as (
    select * from {{ ref('definitions') }}
    where valid_to is null
)

select
    offences.ho_offence_code,
    offences.victim_type,
    definitions.definition_code,
    rules.definition_version,
    rules.match_on,
    rules.weapon,
    rules.domestic_abuse,
    rules.victim_sex,
    rules.hate_flagged,
    rules.priority,
    rules.category
from rules
inner join definitions on definitions.definition_version = rules.definition_version
inner join offences
    on case rules.match_on
        when 'offence_type' then offences.offence_type = rules.match_value
        when 'offence_subgroup' then offences.offence_subgroup = rules.match_value
        when 'offence_group' then offences.offence_group = rules.match_value
        when 'ho_class' then offences.ho_class = rules.match_value
        when 'any' then true
    end
