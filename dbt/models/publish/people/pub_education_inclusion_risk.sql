-- fct_education_inclusion_risk for publication, with the total over schools ('All'). A term whose attendance
-- return has not arrived shows zero pupils in the return and says so in attendance_return.

with

schools as (
    select * from {{ ref('fct_education_inclusion_risk') }}
)

select
    academic_year,
    term,
    case when grouping(school_id) = 1 then 'All' else school_id end as school_id,
    case when bool_or(pupils_in_attendance_return is not null) then 'received' else 'not received' end
        as attendance_return,
    sum(permanent_exclusions)::bigint as permanent_exclusions,
    sum(suspensions)::bigint as suspensions,
    -- Distinct pupils, city-wide only: per school, with the exclusions and suspensions beside them, they
    -- bound each other tightly enough to narrow a suppressed school's count (at most the sum, at least each).
    case when grouping(school_id) = 1 then sum(pupils_excluded_or_suspended)::bigint end
        as pupils_excluded_or_suspended,
    coalesce(sum(pupils_in_attendance_return), 0)::bigint as pupils_in_attendance_return,
    coalesce(sum(persistently_absent_pupils), 0)::bigint as persistently_absent_pupils,
    round(100.0 * sum(persistently_absent_pupils) / nullif(sum(pupils_in_attendance_return), 0), 1)
        as persistent_absence_rate_pct,
    case when grouping(school_id) = 1 then sum(pupils_at_risk)::bigint end as pupils_at_risk,
    case when grouping(school_id) = 1 then sum(pupils_at_risk_known_to_youth_justice)::bigint end
        as pupils_at_risk_known_to_youth_justice
from schools
group by academic_year, term, cube(school_id)
