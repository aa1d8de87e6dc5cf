-- Every age from 0 to 120 in every age-band scheme the strategies use (seed `age_band_schemes`): join on
-- (scheme, age) to band anyone. Schemes overlap by design; an age outside a scheme's bands has no row in it.

with

ages as (
    select generate_series(0, 120) as age
),

bands as (
    select * from {{ ref('age_band_schemes') }}
)

select
    bands.scheme,
    ages.age,
    bands.age_band,
    bands.min_age,
    bands.max_age,
    bands.source
from ages
inner join bands on ages.age between bands.min_age and bands.max_age
