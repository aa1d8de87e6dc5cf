"""The offence definitions the warehouse counts by (dbt/seeds), read by the generator so that it plants its
serious-violence figures on the crimes the warehouse will count."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from partnership import settings


@dataclass(frozen=True)
class OffenceRules:
    """The offence definitions of dbt/seeds (offence_code_classes, the ONS hierarchy, offence_definition_rules),
    read so that the generator plants its serious-violence figures on the crimes the warehouse will count."""

    offences: dict  # (code, victim_type or None) -> {offence_type, ho_class, offence_subgroup, offence_group}
    rules: list  # rule rows of the definition versions in force

    def offence(self, code: str, victim_type: str | None) -> dict:
        return self.offences.get((code, None)) or self.offences[(code, victim_type)]

    def meets(self, definition_version: str, code: str, victim_type: str | None, weapon: str, domestic: str) -> bool:
        offence = self.offence(code, victim_type)
        for rule in self.rules:
            if rule["definition_version"] != definition_version:
                continue
            on, value = rule["match_on"], rule["match_value"]
            if on != "any" and offence.get(on) != value:
                continue
            if rule["weapon"] == "knife" and weapon != "Knife or sharp instrument":
                continue
            if rule["weapon"] == "weapon" and not weapon:
                continue
            if rule["domestic_abuse"] not in ("any", domestic):
                continue
            if rule["victim_sex"] != "any" or rule["hate_flagged"] != "any":
                continue  # not needed for serious violence
            return True
        return False


def load_offence_rules(seeds_dir: Path | None = None) -> OffenceRules:
    seeds_dir = seeds_dir or settings.DBT_PROJECT_DIR / "seeds"

    def rows(name: str) -> list[dict]:
        with open(seeds_dir / name, newline="") as f:
            return list(csv.DictReader(f))

    hierarchy = {
        r["ho_offence_code"]: r
        for name in ("ho_offence_classification.csv", "ho_offence_classification_additions.csv")
        for r in rows(name)
    }
    offences = {}
    for r in rows("offence_code_classes.csv"):
        classes = (
            {None: r["ho_class"]}
            if not r["ho_class_business"]
            else {"Person": r["ho_class"], "Business": r["ho_class_business"]}
        )
        for victim_type, ho_class in classes.items():
            h = hierarchy[ho_class]
            subgroup = h["offence_subgroup"] or (
                "Homicide" if h["offence_description"] == "Homicide" else h["offence_group"]
            )
            offences[(r["ho_offence_code"], victim_type)] = {
                "offence_type": r["offence_type"],
                "ho_class": ho_class,
                "offence_subgroup": subgroup,
                "offence_group": h["offence_group"],
            }
    return OffenceRules(offences, rows("offence_definition_rules.csv"))
