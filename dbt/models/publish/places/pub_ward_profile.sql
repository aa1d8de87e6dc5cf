-- fct_ward_profile for publication: each Manchester ward's indicators side by side per financial year, with
-- its locality's and the city's rows, and the rates per 1,000 residents built on the counts beside them.

select
    financial_year,
    locality,
    ward_code,
    area_name,
    months_of_data,
    population,
    crimes,
    victim_based_crimes,
    serious_violence_mcr,
    serious_violence_duty,
    neighbourhood_crimes,
    domestic_abuse_crimes,
    hate_crimes,
    asb_incidents,
    crimes_per_1000,
    victim_based_crimes_per_1000,
    serious_violence_mcr_per_1000,
    serious_violence_duty_per_1000,
    neighbourhood_crimes_per_1000,
    domestic_abuse_crimes_per_1000,
    hate_crimes_per_1000,
    asb_incidents_per_1000
from {{ ref('fct_ward_profile') }}
