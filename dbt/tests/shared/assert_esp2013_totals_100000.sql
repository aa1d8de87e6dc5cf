-- Published figure (Eurostat, Revision of the European Standard Population 2013): 19 bands summing to 100,000.
select count(*) as bands, sum(standard_population) as total
from {{ ref('esp2013') }}
having count(*) <> 19 or sum(standard_population) <> 100000
