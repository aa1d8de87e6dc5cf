-- Published figure (ONS LSOA 2021 and ward May 2022 lookups): Manchester has 295 LSOAs (2021) in 32 wards.
with manchester_2021 as (
    select count(*) as lsoas, count(distinct ward_code) as wards
    from {{ ref('dim_geography') }}
    where is_manchester and is_lsoa21
)

select * from manchester_2021
where lsoas <> 295 or wards <> 32
