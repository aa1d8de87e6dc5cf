"""Education extracts: exclusions, alternative provision placements and the termly attendance return."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnership.demo.population import recorded_ethnicity
from partnership.demo.tables import EXCLUSION_REASONS, TERMS

if TYPE_CHECKING:
    from partnership.demo.generator import Generator


def education(gen: Generator, m: int, month: date) -> None:
    rng, people = gen.rng, gen.people
    label = f"{month:%Y-%m}"
    out = gen.open("education__exclusions", label)
    holiday = month.month == 8
    pupils = [
        people.aged(rng, m, 5, 16) for _ in range(gen.volume("education__exclusions", m) // (10 if holiday else 1))
    ]
    pupils += people.cohort_members_due(m, gen.months)
    for seq, pupil in enumerate(pupils, start=1):
        kind = rng.choices(["FIXD", "LNCH", "PERM"], weights=[85, 10, 5])[0]
        age = pupil.age(m)
        out.write(
            {
                "exclusion_id": f"EX{month:%Y%m}{seq:04d}",
                "pupil_person_key": pupil,
                "school_id": pupil.school,
                "exclusion_type": kind,
                "start_date": gen.day(month).isoformat(),
                "sessions": 1 if kind == "LNCH" else rng.randint(1, 10),
                "reason": rng.choice(EXCLUSION_REASONS),
                "age_at_start": age,
                "year_group": min(max(age - 5, 0), 13),
                "sex": pupil.sex,
                "ethnicity": recorded_ethnicity(rng, pupil),
            }
        )
    out.close()

    out = gen.open("education__ap_placements", label)
    for seq in range(1, gen.volume("education__ap_placements", m) + 1):
        pupil = people.cohort_or_aged(rng, 0.5, m, 11, 16)
        start = gen.day(month)
        out.write(
            {
                "placement_id": f"AP{month:%Y%m}{seq:04d}",
                "pupil_person_key": pupil,
                "provider_type": rng.choices(
                    ["Pupil referral unit", "AP academy", "Independent AP", "Other"], weights=[45, 30, 20, 5]
                )[0],
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=rng.randint(30, 200))).isoformat() if rng.random() < 0.4 else "",
                "reason": rng.choices(
                    ["Permanent exclusion", "Behaviour support", "Medical", "Awaiting school place", "Other"],
                    weights=[35, 35, 15, 10, 5],
                )[0],
                "age_at_start": max(pupil.age(m), 4),
            }
        )
    out.close()

    if month.month in TERMS:  # the attendance return for the term just ending
        term, start_month, start_day = TERMS[month.month]
        start = date(month.year if start_month <= month.month else month.year - 1, start_month, start_day)
        out = gen.open("education__attendance", label)
        # A sample of the city's pupils (all of the cohort among them), one row per pupil and term.
        pupils = range(min(people.young, int(5000 * gen.scale) + 100))
        for j in [*pupils, *range(people.young, people.young + people.cohort)]:
            pupil = people(people.first_young + j)
            age = pupil.age(m)
            if not 5 <= age <= 16:
                continue
            possible = rng.randint(110, 140)
            absence_rate = (
                rng.betavariate(2, 5) * 0.6 if pupil.index >= people.first_cohort else rng.betavariate(1.2, 20)
            )
            missed = min(possible, int(possible * absence_rate))
            out.write(
                {
                    "pupil_person_key": pupil,
                    "school_id": pupil.school,
                    "term_start_date": start.isoformat(),
                    "term": term,
                    "sessions_possible": possible,
                    "sessions_missed": missed,
                    "persistent_absence_flag": "Y" if missed >= possible * 0.1 else "N",
                    "age_at_term_start": age,
                    "ethnicity": recorded_ethnicity(rng, pupil),
                }
            )
        out.close()
