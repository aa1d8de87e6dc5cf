"""Youth justice extracts: cases disposed of in the month, each with its offence some weeks or months before."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnership.demo.population import NobodyOfThatAge, recorded_ethnicity
from partnership.demo.tables import (
    YJ_AGED_18_SHARE,
    YJ_LAG_COURT,
    YJ_LAG_OUT_OF_COURT,
    YJ_OFFENCES,
    YJ_OUTCOME_WEIGHTS,
    YJ_OUTCOMES,
)

if TYPE_CHECKING:
    from partnership.demo.generator import Generator


def _months_back(earlier: date, month: date) -> int:
    """Whole calendar months from ``earlier``'s month back from ``month`` (a first of month)."""
    return (month.year - earlier.year) * 12 + month.month - earlier.month


def _month_start(month: date, back: int) -> date:
    """The first of the month ``back`` months before ``month``."""
    index = month.year * 12 + month.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def youth_justice(gen: Generator, m: int, month: date) -> None:
    """Cases disposed of in the month (the file's month is the disposal's), each offence some weeks before:
    out-of-court outcomes follow within weeks, court outcomes within months (YJB: Youth Justice Statistics,
    time from offence to completion). A few children offended at 17 and were dealt with at 18."""
    rng, people = gen.rng, gen.people
    out = gen.open("youth_justice__cases", f"{month:%Y-%m}")
    children = [people.aged(rng, m, 10, 17) for _ in range(gen.volume("youth_justice__cases", m))]
    # A cohort member can outgrow youth justice in a run of more than two years: 18 is the oldest at disposal.
    children += [child for child in people.cohort_members_due(m, gen.months) if child.age(m) <= 18]
    try:
        children += [people.aged(rng, m, 18, 18) for _ in range(max(1, round(len(children) * YJ_AGED_18_SHARE)))]
    except NobodyOfThatAge:  # the 13th month: every adult was 18 or more at the start, every young person 16 at most
        pass
    for seq, child in enumerate(children, start=1):
        disposal = gen.day(month)
        outcome = rng.choices(YJ_OUTCOMES, weights=YJ_OUTCOME_WEIGHTS)[0]
        out_of_court = outcome in ("Community resolution", "Youth caution", "Youth conditional caution")
        offence = disposal - timedelta(days=rng.randint(*(YJ_LAG_OUT_OF_COURT if out_of_court else YJ_LAG_COURT)))
        age_at_offence = child.age(m - _months_back(offence, month))
        if age_at_offence > 17:  # aged 18 at disposal: the offence was before the 18th birthday
            # The last month they were 17: within a year for most; longer for a cohort member in a long run.
            back = next(k for k in itertools.count(1) if child.age(m - k) <= 17)
            offence = gen.day(_month_start(month, back))
            age_at_offence = 17
        elif age_at_offence < 10:  # too young then: the offence was in the disposal's month
            offence = month + timedelta(days=rng.randrange(disposal.day))
            age_at_offence = child.age(m)
        start = disposal + timedelta(days=rng.randint(10, 40)) if outcome != "Community resolution" else None
        out.write(
            {
                "case_id": f"YJ{month:%Y%m}{seq:04d}",
                "child_person_key": child,
                "age_at_offence": age_at_offence,
                "offence_date": offence.isoformat(),
                "disposal_date": disposal.isoformat(),
                "age_at_disposal": child.age(m),
                "offence_category": rng.choice(YJ_OFFENCES),
                "outcome": outcome,
                "gravity_score": rng.choices(range(1, 9), weights=[10, 25, 25, 15, 10, 8, 5, 2])[0],
                "first_time_entrant": "N" if child.key in gen.seen_by_yj else "Y",
                "intervention_start_date": start.isoformat() if start else "",
                "intervention_end_date": (start + timedelta(days=rng.randint(90, 365))).isoformat()
                if start and rng.random() < 0.5
                else "",
                "home_lsoa_code": "" if child.outside_city else child.home.lsoa,
                "sex": child.sex,
                "ethnicity": recorded_ethnicity(rng, child),
            }
        )
        gen.seen_by_yj.add(child.key)
    out.close()
