-- How each 2011 LSOA carries over to the 2021 LSOAs, with the weight of its population each 2021 LSOA takes:
-- the bridge dim_population and dim_geography use to put 2011-based data (IMD 2019, IoD 2019 denominators,
-- police.uk up to December 2022) on 2021 LSOAs.
--
-- ONS's best-fit lookup (seed ons_lsoa11_to_lsoa21) has one row per 2011 LSOA, so when a 2011 LSOA split only
-- one of its parts appears and the other parts (32 of GM's 1,702 LSOAs 2021) have no parent at all. A part with
-- no parent takes as parents the split 2011 LSOAs (code changed) whose best-fit 2021 LSOA is in the same 2021
-- MSOA (the LSOA name without its letter, e.g. 'Manchester 017'), or, where the MSOA is new, in the same ward
-- (May 2022). A 2011 LSOA's population is shared equally among all the 2021 LSOAs it feeds (its best-fit part
-- and the parts that chose it), so each 2011 LSOA's weights sum to 1 and district totals are kept exactly.

with

best_fit as (
    select * from {{ ref('ons_lsoa11_to_lsoa21') }}
),

lsoas_2021 as (
    select
        lsoa21_code,
        lsoa21_name,
        ward22_code,
        district_code,
        -- 'Manchester 017H' -> 'Manchester 017': LSOA names are the MSOA name and a letter.
        left(lsoa21_name, length(lsoa21_name) - 1) as msoa21_name
    from {{ ref('ons_lsoa21_to_ward22') }}
),

-- 2011 LSOAs whose code changed: a split (or a merge) in 2021, placed by their best-fit part.
changed as (
    select
        best_fit.lsoa11_code,
        lsoas_2021.msoa21_name,
        lsoas_2021.ward22_code,
        lsoas_2021.district_code
    from best_fit
    inner join lsoas_2021 on lsoas_2021.lsoa21_code = best_fit.lsoa21_code
    where best_fit.lsoa11_code <> best_fit.lsoa21_code
),

orphans as (
    select lsoas_2021.*
    from lsoas_2021
    where not exists (select 1 from best_fit where best_fit.lsoa21_code = lsoas_2021.lsoa21_code)
),

orphan_parents_by_msoa as (
    select changed.lsoa11_code, orphans.lsoa21_code, 'split part: parent in the same MSOA' as link_method
    from orphans
    inner join changed
        on changed.msoa21_name = orphans.msoa21_name and changed.district_code = orphans.district_code
),

orphan_parents_by_ward as (
    select changed.lsoa11_code, orphans.lsoa21_code, 'split part: parent in the same ward' as link_method
    from orphans
    inner join changed on changed.ward22_code = orphans.ward22_code
    where not exists (select 1 from orphan_parents_by_msoa as by_msoa where by_msoa.lsoa21_code = orphans.lsoa21_code)
),

links as (
    select
        lsoa11_code,
        lsoa21_code,
        case
            when lsoa11_code = lsoa21_code then 'unchanged'
            else 'best fit'
        end as link_method
    from best_fit
    union all
    select * from orphan_parents_by_msoa
    union all
    select * from orphan_parents_by_ward
)

select
    lsoa11_code,
    lsoa21_code,
    link_method,
    -- Share of the 2011 LSOA's population given to this 2021 LSOA: equal parts across the LSOAs it feeds.
    cast(1 as double precision) / count(*) over (partition by lsoa11_code) as population_weight
from links
