"""Health extracts: A&E assault attendances, alcohol-specific admissions (an aggregate), A&E Navigator
referrals (with raw NHS numbers, pseudonymised at the gate) and substance misuse treatment episodes."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnership.demo.population import synthetic_nhs_number
from partnership.demo.tables import (
    ADMISSION_AGE_BANDS,
    AE_LOCATION_WEIGHTS,
    AE_LOCATIONS,
    AE_METHOD_WEIGHTS,
    AE_METHODS,
    AE_SITES,
    PLANTED,
    REFERRALS,
    TREATMENT_EXITS,
    TREATMENT_SUBSTANCES,
)

if TYPE_CHECKING:
    from partnership.demo.generator import Generator


def health(gen: Generator, m: int, month: date) -> None:
    rng, people = gen.rng, gen.people
    label = f"{month:%Y-%m}"
    out = gen.open("health__ae_assault_attendances", label)
    for seq in range(1, gen.volume("health__ae_assault_attendances", m) + 1):
        if rng.random() < 0.1:
            patient = people(people.first_cohort + rng.randrange(people.cohort))
        elif rng.random() < 0.2:
            patient = people.aged(rng, m, 10, 17)
        else:
            patient = people.adult(rng)
        linked = rng.random() < (0.9 if patient.index >= people.first_cohort else 0.6)
        arrival = gen.day(month)
        out.write(
            {
                "attendance_id": f"AE{month:%Y%m}{seq:05d}",
                "patient_person_key": patient if linked else "",
                "arrival_datetime": f"{arrival.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
                "age": patient.age(m),
                "sex": patient.sex,
                "site": AE_SITES[1] if patient.age(m) < 16 else rng.choice(AE_SITES),
                "assault_method": rng.choices(AE_METHODS, weights=AE_METHOD_WEIGHTS)[0],
                "location_type": rng.choices(AE_LOCATIONS, weights=AE_LOCATION_WEIGHTS)[0],
                "incident_lsoa_code": gen.place().lsoa if rng.random() < 0.8 else "",
            }
        )
    out.close()

    # Aggregate by nature: a count per LSOA, month and age band. Tied to the real city's size, not scale.
    admissions = Counter()
    expected = PLANTED["alcohol_admissions_per_100k_year"] * gen.population_total / 100_000 / 12
    for _ in range(int(rng.gauss(expected, expected * 0.03))):
        band = rng.choices(list(ADMISSION_AGE_BANDS), weights=list(ADMISSION_AGE_BANDS.values()))[0]
        admissions[(gen.place().lsoa, band)] += 1
    out = gen.open("health__alcohol_admissions", label)
    for (lsoa, band), count in sorted(admissions.items()):
        out.write({"lsoa_code": lsoa, "month": label, "age_band": band, "admissions": count})
    out.close()

    # A&E Navigators: the trust sends raw NHS numbers here (its agreement allows it, for linkage); the gate
    # replaces each with the partnership pseudonym before anything is loaded.
    out = gen.open("health__navigator_referrals", label)
    for seq in range(1, gen.volume("health__navigator_referrals", m) + 1):
        young = people.cohort_or_aged(rng, 0.8, m, 10, 17)
        nhs = synthetic_nhs_number(young.key)
        out.write(
            {
                "referral_id": f"NV{month:%Y%m}{seq:04d}",
                "nhs_number": f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if rng.random() < 0.3 else nhs,
                "referral_date": gen.day(month).isoformat(),
                "age": min(max(young.age(m), 10), 25),
                "sex": young.sex,
                "engaged": "Y" if rng.random() < 0.6 else "N",
            }
        )
    out.close()

    out = gen.open("health__treatment_episodes", label)
    for seq in range(1, gen.volume("health__treatment_episodes", m) + 1):
        client = people.aged(rng, m, 18, 75)
        substance = rng.choices(list(TREATMENT_SUBSTANCES), weights=list(TREATMENT_SUBSTANCES.values()))[0]
        start = gen.day(month)
        exited = rng.random() < 0.6
        success = PLANTED["alcohol_exits_successful"] if substance == "Alcohol only" else 0.45
        out.write(
            {
                "episode_id": f"TX{month:%Y%m}{seq:04d}",
                "client_person_key": client,
                "substance_group": substance,
                "start_date": start.isoformat(),
                "exit_date": (start + timedelta(days=rng.randint(30, 270))).isoformat() if exited else "",
                "exit_reason": ("Successful completion" if rng.random() < success else rng.choice(TREATMENT_EXITS))
                if exited
                else "",
                "referral_source": rng.choices(list(REFERRALS), weights=list(REFERRALS.values()))[0],
                "age": client.age(m),
                "sex": client.sex,
            }
        )
    out.close()
