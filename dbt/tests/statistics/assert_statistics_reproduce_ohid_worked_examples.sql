-- The statistics macros reproduce OHID's own worked examples, which this project did not make: the test data
-- and expected results of PHEindicatormethods (UKHSA/OHID, https://github.com/ukhsa-collaboration/PHEindicatormethods,
-- commit 093fd28, tests/testthat/testdata_DSR_ISR.xlsx sheets testdata_multiarea and testresults_DSR, and
-- tests/testthat/testdata_Byars_Wilson.xlsx sheet testdata_B_W; the expected values there come from OHID's
-- "APHO Tool for common PH Stats and CIs" spreadsheet). Counts and populations in 19 age bands against the
-- seed esp2013; the DSRs per 100,000 with their 95% Dobson limits must agree to 0.05 (the brief: "to 0.1"),
-- the Byar and Wilson limits to 1e-5. A failing row names the check and shows both figures.

with

esp as (
    select * from {{ ref('esp2013') }}
),

-- testdata_multiarea: count and population by age band, in ESP order (the sheet labels 55-59 as "55-69").
bands as (
    select area, band_order, count, population
    from (values
        ('testdata_big', array[127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38, 68, 74, 82, 91]),
        ('testdata_small', array[12, 4, 3, 2, 3, 4, 8, 2, 2, 3, 4, 5, 6, 8, 5, 6, 5, 5, 4]),
        -- The sheet leaves the 10-14 count blank: no events.
        ('testdata_tiny', array[0, 0, null, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 2, 3])
    ) as t (area, counts)
    cross join lateral unnest(
        counts,
        array[636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
    ) with ordinality as u (count, population, band_order)
),

dsrs as (
    select
        bands.area,
        {{ dsr_value('bands.count', 'bands.population', 'esp.standard_population') }} as value,
        {{ dsr_lower('bands.count', 'bands.population', 'esp.standard_population') }} as lower_95,
        {{ dsr_upper('bands.count', 'bands.population', 'esp.standard_population') }} as upper_95
    from bands
    inner join esp on esp.band_order = bands.band_order
    group by bands.area
),

-- testresults_DSR, rows "dsr per 100000": the tiny area (9 events) has no DSR.
expected_dsrs as (
    select * from (values
        ('testdata_big', 10430.247991469423, 9717.709067985681, 11178.94091547925),
        ('testdata_small', 1103.212025300104, 877.455767536709, 1367.0882227251795),
        ('testdata_tiny', null, null, null)
    ) as t (area, value, lower_95, upper_95)
),

dsr_failures as (
    select
        'DSR ' || expected.area as check_name,
        format('%s (%s-%s)', expected.value, expected.lower_95, expected.upper_95) as expected,
        format('%s (%s-%s)', round(dsrs.value, 4), round(dsrs.lower_95, 4), round(dsrs.upper_95, 4)) as actual
    from expected_dsrs as expected
    left join dsrs using (area)
    where dsrs.area is null
       or (expected.value is null) <> (dsrs.value is null)
       or abs(dsrs.value - expected.value) >= 0.05
       or abs(dsrs.lower_95 - expected.lower_95) >= 0.05
       or abs(dsrs.upper_95 - expected.upper_95) >= 0.05
),

-- testdata_B_W, 95% rows.
byars as (
    select * from (values
        (65, 50.163187710459454, 82.849138545939837),
        (1045, 982.59320180733255, 1110.3312129856499),
        (1, 0.013072132901504351, 5.5637555824752605)
    ) as t (x, lower_95, upper_95)
),

byars_failures as (
    select
        'Byar ' || x as check_name,
        format('%s-%s', lower_95, upper_95) as expected,
        format('%s-%s', {{ byars_lower('x') }}, {{ byars_upper('x') }}) as actual
    from byars
    where abs({{ byars_lower('x') }} - lower_95) >= 1e-5 or abs({{ byars_upper('x') }} - upper_95) >= 1e-5
),

wilsons as (
    select * from (values
        (65::numeric, 100, 0.55254443296887967, 0.73635751756902468),
        (1045, 5000, 0.19795549880013297, 0.22049130373189027),
        (0.445, 1, 0.043817447720588223, 0.93346212769791559)
    ) as t (x, n, lower_95, upper_95)
),

wilson_failures as (
    select
        'Wilson ' || x || '/' || n as check_name,
        format('%s-%s', lower_95, upper_95) as expected,
        format('%s-%s', {{ wilson_lower('x', 'n') }}, {{ wilson_upper('x', 'n') }}) as actual
    from wilsons
    where abs({{ wilson_lower('x', 'n') }} - lower_95) >= 1e-5 or abs({{ wilson_upper('x', 'n') }} - upper_95) >= 1e-5
)

select * from dsr_failures
union all
select * from byars_failures
union all
select * from wilson_failures
