-- One row per police.uk stop and search (latest issue of its month), dated, with the person's broad ethnic
-- group as the Home Office counts it: the self-defined ethnicity where the person gave one, else the officer's.
-- Open data with no person keys, so a view with no row security.

with

searches as (
    select * from {{ ref('stg_police__stop_search') }}
)

select
    search_datetime,
    cast(search_datetime as date) as search_date,
    search_type,
    legislation,
    object_of_search,
    outcome,
    outcome = 'Arrest' as is_arrest,
    gender,
    age_range,
    self_defined_ethnicity,
    officer_defined_ethnicity,
    -- A self-definition of "Not stated" is a refusal, not an answer, so the officer's record stands.
    case
        when {{ broad_ethnic_group('self_defined_ethnicity') }} <> 'Not stated'
            then {{ broad_ethnic_group('self_defined_ethnicity') }}
        else {{ broad_ethnic_group('officer_defined_ethnicity') }}
    end as ethnic_group,
    latitude,
    longitude,
    batch_id,
    source_row
from searches
