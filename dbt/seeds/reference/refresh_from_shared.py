"""Rebuild the real reference seeds in this folder from the shared public data (../shared/data beside the project).

Each seed is a faithful copy: rows filtered and columns renamed to the warehouse's names, values unchanged except
where a comment says (thousands separators, Census age labels). Sources, licences and dates are in `_reference.yml`.
Run: python dbt/seeds/reference/refresh_from_shared.py [path/to/shared/data]
"""

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[3] / "shared" / "data"


def rows(path: Path):
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def write(name: str, header: list[str], records) -> None:
    with (HERE / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(records)


def number(text: str) -> str:
    return text.replace(",", "")  # IoD File 6 writes "1,616"


def census_age(label: str) -> int:
    # "Aged under 1 year" -> 0, "Aged 4 years" -> 4, "Aged 90 years and over" -> 90 (the open top band)
    return 0 if "under 1" in label else int(re.search(r"\d+", label).group())


def main(shared: Path) -> None:
    write(
        "ons_lsoa21_to_ward22",
        ["lsoa21_code", "lsoa21_name", "ward22_code", "ward22_name", "district_code", "district_name"],
        (
            [r["lsoa21cd"], r["lsoa21nm"], r["wd22cd"], r["wd22nm"], r["lad22cd"], r["lad22nm"]]
            for r in rows(shared / "ons/lsoa21_to_ward22_greater_manchester.csv")
        ),
    )
    write(
        "ons_lsoa11_to_lsoa21",
        ["lsoa11_code", "lsoa11_name", "lsoa21_code", "lsoa21_name", "district_code", "district_name"],
        (
            [r["LSOA11CD"], r["LSOA11NM"], r["LSOA21CD"], r["LSOA21NM"], r["LAD22CD"], r["LAD22NM"]]
            for r in rows(shared / "ons/lsoa11_to_lsoa21_bestfit_greater_manchester.csv")
        ),
    )
    imd = list(rows(shared / "mhclg/imd2019_lsoa11_greater_manchester.csv"))
    imd_header = ["lsoa11_code", "lsoa11_name", "district_code", "district_name"] + list(imd[0])[4:]
    write("imd2019_lsoa11", imd_header, (list(r.values()) for r in imd))
    write(
        "iod2019_population_denominators_lsoa11",
        [
            "lsoa11_code",
            "lsoa11_name",
            "district_code",
            "district_name",
            "population_total",
            "population_0_15",
            "population_16_59",
            "population_60_plus",
            "population_working_age",
        ],
        (
            [*list(r.values())[:4], *(number(v) for v in list(r.values())[4:])]
            for r in rows(shared / "mhclg/iod2019_population_denominators_mid2015_lsoa11_greater_manchester.csv")
        ),
    )
    write(
        "esp2013",
        ["band_order", "age_band", "min_age", "max_age", "standard_population"],
        (
            [
                r["band_order"],
                r["age_band"],
                r["age_band"].split("-")[0].rstrip("+"),
                r["age_band"].split("-")[1] if "-" in r["age_band"] else "",
                r["esp2013_population"],
            ]
            for r in rows(shared / "ohid/esp2013.csv")
        ),
    )
    sexes = {"All persons": "persons", "Female": "female", "Male": "male"}
    write(
        "census2021_population_by_age_district",
        ["district_code", "district_name", "age", "sex", "population"],
        (
            [r["area_code"], r["area_name"], census_age(r["age"]), sexes[r["sex"]], r["value"]]
            for r in rows(shared / "ons/census2021_population_single_year_la_greater_manchester.csv")
        ),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SHARED)
