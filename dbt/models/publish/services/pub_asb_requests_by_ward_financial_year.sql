-- fct_asb_requests_by_ward_financial_year for publication; small counts suppressed (post-hook, cells in the
-- yml). The rate per 1,000 residents (the Board's ward map) is withheld with its requests.
--
-- No category split here: ward x category cells would be mostly suppressed, and their all-wards margins
-- would be the same cells as pub_asb_requests_by_month's year totals, suppressed to a different pattern (a
-- cell hidden in one table but shown in the other can give a neighbour away). The only cell the two tables
-- share is the year's grand total.

select * from {{ ref('fct_asb_requests_by_ward_financial_year') }}
