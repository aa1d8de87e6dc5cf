"""Probation extracts: a monthly snapshot of the caseload (the same people month after month)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnership.demo.generator import Generator


def probation(gen: Generator, m: int, month: date) -> None:
    rng, people = gen.rng, gen.people
    out = gen.open("probation__caseload", f"{month:%Y-%m}")
    caseload = int(gen.rows_per_month("probation__caseload") * gen.scale)
    for j in range(caseload):  # the same people month after month: a snapshot of the caseload
        person = people(people.repeat + j)
        age = person.age(m)
        d = hashlib.sha256(f"probation:{person.key}".encode()).digest()
        accommodation = ["Settled", "Settled", "Settled", "Unsettled", "Homeless", "Custody"][d[0] % 6]
        reoffends = 0.35 if accommodation in ("Unsettled", "Homeless") else 0.15
        band = "18-24" if age < 25 else "25-34" if age < 35 else "35-49" if age < 50 else "50-64" if age < 65 else "65+"
        out.write(
            {
                "person_key": person,
                "snapshot_month": f"{month:%Y-%m}",
                "age_band": band,
                "sex": person.sex,
                "ethnicity": person.ethnicity,
                "accommodation": accommodation,
                "ete_status": ["Employed", "Education or training", "Unemployed", "Not available for work"][d[1] % 4],
                "cohort": "IOM" if d[2] < 25 else "MAPPA" if d[2] < 40 else "None",
                "proven_reoffence_flag": "Y" if rng.random() < reoffends / 12 * (m + 1) else "N",
            }
        )
    out.close()
