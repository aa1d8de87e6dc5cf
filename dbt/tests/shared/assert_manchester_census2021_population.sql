-- Published figure (ONS Census 2021, TS001): Manchester had 551,944 usual residents on 21 March 2021.
-- dim_population is derived (district by age and sex x LSOA shares), so its Manchester total, summed over
-- LSOAs, ages and sexes, and the one dim_geography carries, must both come back to it; GM's ten districts must
-- sum to the Census single-year total (2,867,752).
with totals as (
    select
        (select sum(population) from {{ ref('dim_population') }} where district_code = 'E08000003') as manchester,
        (select sum(population) from {{ ref('dim_geography') }} where is_manchester) as manchester_geography,
        (select sum(population) from {{ ref('dim_population') }}) as greater_manchester
)

select * from totals
where round(manchester, 3) <> 551944
    or round(manchester_geography, 3) <> 551944
    or round(greater_manchester, 3) <> 2867752
