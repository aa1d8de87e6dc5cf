-- Published figure (MHCLG, English Indices of Deprivation 2019; Manchester City Council's IoD2019 briefing):
-- Manchester has 282 LSOAs (2011), 122 of them (43%) in the most deprived decile nationally. Read through
-- dim_geography's 2011 codes, so the lookup, the IMD join and the district flag are all checked. Fails when not.
with manchester_2011 as (
    select
        count(*) as lsoas,
        count(*) filter (where imd_decile = 1) as decile_1
    from {{ ref('dim_geography') }}
    where is_manchester and lsoa_vintage in ('2011', '2011 and 2021')
)

select * from manchester_2011
where lsoas <> 282 or decile_1 <> 122 or round(100.0 * decile_1 / lsoas) <> 43
