"""Police extracts: recorded crime, ASB incidents, GMP's police.uk street-level file (with the other nine
Greater Manchester districts) and stop and search."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnership.demo.population import Person, recorded_ethnicity
from partnership.demo.tables import (
    BUSINESS_BURGLARY,
    CRIME_HOUR_WEIGHTS,
    CRIME_TYPES,
    ETHNIC_GROUPS,
    HISTORIC_SEXUAL,
    HO_CODES,
    OTHER_TYPES,
    OUTCOME_WEIGHTS,
    OUTCOMES,
    PLANTED,
    POSSESSION_WEAPON,
    RECORDING_DELAY,
    ROBBERY_BUSINESS,
    SEARCH_LEGISLATION,
    SEARCH_OUTCOMES,
    VICTIM_BASED_TYPES,
    VICTIMLESS,
    WEAPON_SHARE,
    WEAPONS,
)

if TYPE_CHECKING:
    from partnership.demo.generator import Extract, Generator


def police(gen: Generator, m: int, month: date) -> None:
    rng, people = gen.rng, gen.people
    label = f"{month:%Y-%m}"
    crimes = gen.open("police__recorded_crime", label)
    asb = gen.open("police__asb_incidents", label)
    street = gen.open("police_uk__street_crime", f"{label}-greater-manchester")
    seq = 0
    mcr_street = Counter()  # Manchester's rows in the street-level file: victim-based, other crime, ASB

    def write_crime(crime_type: str, suspect: Person | None = None, victim: Person | None = None) -> None:
        nonlocal seq
        seq += 1
        code = rng.choices(list(HO_CODES[crime_type]), weights=list(HO_CODES[crime_type].values()))[0]
        if crime_type == "Robbery":
            victim_type = "Business" if rng.random() < ROBBERY_BUSINESS else "Person"
        elif code in BUSINESS_BURGLARY or crime_type == "Shoplifting":
            victim_type = "Business"
        elif crime_type in VICTIMLESS:
            victim_type = ""
        else:
            victim_type = "Person"
        offence_type = gen.offence_rules.offence(code, victim_type or None)["offence_type"]
        if offence_type in POSSESSION_WEAPON:
            weapon = POSSESSION_WEAPON[offence_type]
        elif rng.random() < WEAPON_SHARE.get(offence_type, 0):
            weapon = rng.choices(list(WEAPONS), weights=list(WEAPONS.values()))[0]
        else:
            weapon = ""
        violent = crime_type == "Violence and sexual offences"
        domestic = "Y" if violent and rng.random() < 0.25 else "N"
        serious = gen.offence_rules.meets("SV-MCR-2022", code, victim_type or None, weapon, domestic)
        recorded = gen.day(month)
        delay = rng.choices(list(RECORDING_DELAY), weights=list(RECORDING_DELAY.values()))[0]
        if offence_type in ("rape", "sexual_assault") and rng.random() < HISTORIC_SEXUAL:
            delay = "historic"
        if delay == "same week":
            offence_day = recorded - timedelta(days=rng.choices(range(8), weights=[40, 25, 10, 7, 6, 5, 4, 3])[0])
        elif delay == "weeks or months":
            offence_day = recorded - timedelta(days=rng.randrange(8, 180))
        else:
            offence_day = recorded - timedelta(days=rng.randrange(365, 365 * 20))
        place = gen.place()
        hour = rng.choices(range(24), weights=CRIME_HOUR_WEIGHTS)[0]
        if victim is None and crime_type not in VICTIMLESS and rng.random() < 0.85:
            if crime_type == "Robbery":
                outside = rng.random() < PLANTED["robbery_victim_outside_city"]
                if rng.random() < PLANTED["robbery_victim_aged_15_to_23"]:
                    victim = people.aged(rng, m, 15, 23, outside=outside)
                else:
                    victim = people.aged(rng, m, 24, 80, outside=outside)
            elif serious:
                young_adult = rng.random() < PLANTED["sv_victim_aged_20_to_34"]
                victim = people.aged(rng, m, 20, 34) if young_adult else people.aged(rng, m, 35, 80)
            elif rng.random() < 0.1:
                victim = people.aged(rng, m, 10, 17)
            else:
                victim = people.adult(rng)
        if suspect is None and rng.random() < (0.6 if serious else 0.3):
            if serious:
                sex = "M" if rng.random() < PLANTED["sv_suspect_male"] else "F"
                suspect = people.aged(rng, m, 14, 60, sex=sex)
            elif rng.random() < 0.25:
                suspect = people.aged(rng, m, 10, 17)
            else:
                suspect = people.adult(rng)
        night = hour >= 20 or hour < 4
        reference = f"CR{month:%Y%m}{seq:06d}"
        outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
        crimes.write(
            {
                "crime_reference": reference,
                "offence_date": offence_day.isoformat(),
                "recorded_date": recorded.isoformat(),
                "offence_time": "" if rng.random() < 0.05 else f"{hour:02d}:{rng.randrange(60):02d}",
                "ho_offence_code": code,
                "crime_type": crime_type,
                "lsoa_code": place.lsoa,
                "domestic_abuse_flag": domestic,
                "hate_strand": rng.choice(["Race", "Religion", "Sexual orientation", "Disability", "Transgender"])
                if crime_type in ("Violence and sexual offences", "Public order") and rng.random() < 0.04
                else "",
                "weapon": weapon,
                "night_time_economy_flag": "Y" if place.city_centre and night and rng.random() < 0.7 else "N",
                "street_community_flag": "Y" if place.city_centre and rng.random() < 0.05 else "N",
                "victim_type": victim_type,
                "victim_person_key": victim or "",
                "victim_age": victim.age(m) if victim else "",
                "victim_sex": victim.sex if victim else "",
                "victim_ethnicity": recorded_ethnicity(rng, victim) if victim else "",
                "victim_home_lsoa": ("Outside Manchester" if victim.outside_city else victim.home.lsoa)
                if victim
                else "",
                "suspect_person_key": suspect or "",
                "suspect_age": suspect.age(m) if suspect else "",
                "suspect_sex": suspect.sex if suspect else "",
                "suspect_ethnicity": recorded_ethnicity(rng, suspect) if suspect else "",
                "outcome": outcome,
            }
        )
        mcr_street["other" if crime_type in VICTIMLESS else "victim_based"] += 1
        street.write(street_record(label, place, crime_type, hashlib.sha256(reference.encode()).hexdigest(), outcome))

    for _ in range(gen.volume("police__recorded_crime", m)):
        write_crime(rng.choices(list(CRIME_TYPES), weights=list(CRIME_TYPES.values()))[0])
    for member in people.cohort_members_due(m, gen.months):  # planted cohort: known to police
        write_crime(rng.choice(["Shoplifting", "Public order", "Other theft", "Drugs"]), member)
    for victim in people.repeat_victims_due(m):  # planted repeat victims: a crime every other month
        write_crime(rng.choice(["Burglary", "Other theft", "Vehicle crime", "Theft from the person"]), victim=victim)
    crimes.close()

    for seq_asb in range(1, gen.volume("police__asb_incidents", m) + 1):
        place = gen.place()
        hour = rng.randrange(24)
        category = rng.choices(["Personal", "Nuisance", "Environmental"], weights=[25, 65, 10])[0]
        asb.write(
            {
                "incident_reference": f"ASB{month:%Y%m}{seq_asb:06d}",
                "incident_datetime": f"{gen.day(month).isoformat()}T{hour:02d}:{rng.randrange(60):02d}:00",
                "asb_category": category,
                "lsoa_code": place.lsoa,
                "covid_related_flag": "N",
                "night_time_economy_flag": "Y" if place.city_centre and (hour >= 20 or hour < 4) else "N",
                "street_community_flag": "Y" if place.city_centre and rng.random() < 0.1 else "N",
            }
        )
        mcr_street["asb"] += 1
        street.write(street_record(label, place, "Anti-social behaviour"))
    asb.close()
    rest_of_greater_manchester(gen, street, label, mcr_street)
    street.close()


def rest_of_greater_manchester(gen: Generator, street: Extract, label: str, mcr: Counter) -> None:
    """GMP's street-level file also holds the other nine districts: rows sized so that Manchester makes
    the planted share of the force's victim-based crime (and of its other crime and ASB). Drawn from a
    stream of their own, so adding them changes none of the rows above or of any later extract."""
    rng = random.Random(f"gm-street:{gen.seed}:{label}")
    share = PLANTED["manchester_share_of_gm_victim_based"]
    others = (1 - share) / share
    batches = [
        (round(mcr["victim_based"] * others), VICTIM_BASED_TYPES),
        (round(mcr["other"] * others), OTHER_TYPES),
        (round(mcr["asb"] * others), {"Anti-social behaviour": 1}),
    ]
    seq = 0
    for rows, types in batches:
        for _ in range(rows):
            seq += 1
            crime_type = rng.choices(list(types), weights=list(types.values()))[0]
            place = rng.choices(gen.gm_places, weights=gen.gm_place_weights)[0]
            if crime_type == "Anti-social behaviour":  # police.uk gives ASB no Crime ID and no outcome
                street.write(street_record(label, place, crime_type))
            else:
                crime_id = hashlib.sha256(f"GM{label}{seq:07d}".encode()).hexdigest()
                outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
                street.write(street_record(label, place, crime_type, crime_id, outcome))


def street_record(label: str, place, crime_type: str, crime_id: str = "", outcome: str = "") -> dict:
    """A row of GMP's police.uk street-level file."""
    return {
        "crime_id": crime_id,
        "month": label,
        "reported_by": "Greater Manchester Police",
        "falls_within": "Greater Manchester Police",
        "location": f"On or near {place.ward}",
        "lsoa_code": place.lsoa,
        "lsoa_name": place.lsoa_name,
        "crime_type": crime_type,
        "last_outcome_category": outcome,
    }


def stop_search(gen: Generator, m: int, month: date) -> None:
    rng = gen.rng
    out = gen.open("police__stop_search", f"{month:%Y-%m}-greater-manchester")
    black = PLANTED["stop_search_black_share"]
    weights = [0.70 * (1 - black), 0.20 * (1 - black), black, 0.06 * (1 - black), 0.04 * (1 - black)]
    for _ in range(gen.volume("police__stop_search", m)):
        legislation = rng.choices(list(SEARCH_LEGISLATION), weights=[w for _, w in SEARCH_LEGISLATION.values()])[0]
        located = rng.random() < 0.9
        outcome = rng.choices(list(SEARCH_OUTCOMES), weights=list(SEARCH_OUTCOMES.values()))[0]
        out.write(
            {
                "search_type": rng.choices(
                    ["Person search", "Vehicle search", "Person and Vehicle search"], weights=[85, 5, 10]
                )[0],
                "search_datetime": f"{gen.day(month).isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}"
                ":00+00:00",
                "part_of_policing_operation": "False",
                "latitude": f"{rng.uniform(53.40, 53.54):.6f}" if located else "",
                "longitude": f"{rng.uniform(-2.32, -2.15):.6f}" if located else "",
                "gender": rng.choices(["Male", "Female", "Other"], weights=[88, 11, 1])[0],
                "age_range": rng.choices(["10-17", "18-24", "25-34", "over 34"], weights=[15, 35, 30, 20])[0],
                "officer_defined_ethnicity": rng.choices(ETHNIC_GROUPS, weights=weights)[0],
                "legislation": legislation,
                "object_of_search": SEARCH_LEGISLATION[legislation][0],
                "outcome": outcome,
                "outcome_linked_to_object": "True"
                if outcome != "A no further action disposal" and rng.random() < 0.6
                else "False",
                "removal_of_more_than_outer_clothing": "True" if rng.random() < 0.03 else "False",
            }
        )
    out.close()
