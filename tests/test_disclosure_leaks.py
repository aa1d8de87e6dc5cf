"""The leaks the old disclosure scheme left in the publish tables, worked by hand on small tables.

Each test builds a table as the old scheme published it (suppressed counts null and flagged), shows that the
attacker's audit (:mod:`partnership.disclosure_audit`) works the suppressed count back, with the arithmetic in a
comment, and then runs the new pipeline on the unprotected truth (build_system -> protect -> apply) and shows
that the audit finds nothing and that every count from 1 to 9 is suppressed. No database, no dbt.
"""

from __future__ import annotations

import random

import pytest

from partnership import disclosure, disclosure_audit
from partnership.disclosure import Table, parse_declaration

# -- helpers ----------------------------------------------------------------------------------------------------


def as_published(decl: disclosure.Disclosure, rows: list[dict]) -> Table:
    """Rows as an old publication showed them: every null count was a suppressed one (flagged)."""
    out = []
    for row in rows:
        row = dict(row)
        for column in decl.counts:
            if column in row:
                row[f"{column}_suppressed"] = row[column] is None
        out.append(row)
    return Table(decl, out, published=True)


def run_new_pipeline(truth: dict[str, Table], link_pairs: dict | None = None):
    """The new pipeline on the unprotected tables: (published tables, protection, system)."""
    link_pairs = link_pairs or {}
    system = disclosure.build_system(truth, link_pairs, include_rates=False)
    protection = disclosure.protect(system)
    published = {
        name: Table(t.declaration, disclosure.apply(t, protection), published=True) for name, t in truth.items()
    }
    return published, protection, system


def intervals(published: dict[str, Table], link_pairs: dict | None = None) -> dict[disclosure.Cell, tuple]:
    """What the attacker narrows each exposed suppressed cell to: {cell: (low, high)}."""
    system = disclosure.build_system(published, link_pairs or {}, include_rates=True)
    unknown = {c for c, v in system.values.items() if v is None}
    return {e.cell: (e.low, e.high) for e in disclosure.exposed_cells(system, unknown)}


def findings_for(result: disclosure_audit.AuditResult, table: str, column: str, key: tuple) -> list[str]:
    return [f for f in result.findings if f.startswith(f"{table}.{column} at {key}:")]


def assert_caught(published, link_pairs, expected: dict[disclosure.Cell, tuple[float, float]]):
    """The audit fails, with a finding on each expected cell, narrowed to the expected interval."""
    result = disclosure_audit.audit_tables(published, link_pairs or {})
    assert not result.ok
    found = intervals(published, link_pairs)
    for (table, column, key), (low, high) in expected.items():
        named = findings_for(result, table, column, key)
        assert named, f"no finding on {table}.{column} at {key}: {result.findings}"
        assert found[(table, column, key)] == (low, high)
        if low == high:  # the finding says "narrowed exactly" without the value: the interval above gives it
            assert any("narrowed exactly" in f for f in named)
        else:
            assert any(f"narrowed to [{low:g}, {high:g}]" in f for f in named)
    return result


def assert_new_pipeline_safe(truth: dict[str, Table], link_pairs: dict | None = None, small_counts: bool = True):
    """The new pipeline: every count from 1 to the threshold suppressed, published counts true, audit clean."""
    published, protection, system = run_new_pipeline(truth, link_pairs)
    small = {c for c, kind in system.cells.items() if kind == "count" and 1 <= system.values[c] <= system.threshold(c)}
    assert bool(small) is small_counts, "the example should (not) have small counts to protect"
    assert protection.primary == small
    assert small <= protection.suppressed
    for name, table in published.items():
        d = table.declaration
        for key, row in table.by_key.items():
            for column in d.counts:
                suppressed = (name, column, key) in protection.suppressed
                assert row[f"{column}_suppressed"] is suppressed
                truth_value = truth[name].by_key[key][column]
                assert row[column] == (None if suppressed else truth_value)
    result = disclosure_audit.audit_tables(published, link_pairs or {})
    assert result.ok, result.findings
    return published, protection


# -- a. a rate gives the count back -----------------------------------------------------------------------------

FTE = parse_declaration(
    "pub_youth_justice_fte",
    {
        "dims": ["financial_year_quarter", "ward_code"],
        "totals": {"ward_code": "sum"},
        "counts": ["first_time_entrants"],
        "rates": {
            "fte_rate_per_100k_10_17": {
                "numerator": "first_time_entrants",
                "denominator": "population_10_17",
                "scale": 100000,
            }
        },
    },
)
Q = "2023-24 Q1"


def fte_rows(all_rate: float) -> list[dict]:
    # Wards A (3), B (11), C (40); 'Not known' (3: outside the city, no population); 'All' 57, over the city's
    # 27,180 residents aged 10-17. Ward rates are 100,000 x count / population, rounded to one place.
    def row(ward, n, population, rate):
        return {
            "financial_year_quarter": Q,
            "ward_code": ward,
            "first_time_entrants": n,
            "population_10_17": population,
            "fte_rate_per_100k_10_17": rate,
        }

    return [
        row("E05011234", 3, 8180, 36.7),  # 100000 x 3 / 8180 = 36.67
        row("E05011235", 11, 9000, 122.2),  # 100000 x 11 / 9000 = 122.22
        row("E05011236", 40, 10000, 400.0),
        row("Not known", 3, None, None),
        row("All", 57, 27180, all_rate),
    ]


def hide_wards(rows: list[dict], wards: set[str]) -> list[dict]:
    """The rows with first_time_entrants nulled (suppressed) for ``wards``; their rates left as they were."""
    return [{**row, "first_time_entrants": None} if row["ward_code"] in wards else row for row in rows]


def test_a_rate_beside_a_suppressed_ward_gives_its_count_back():
    # Old publication: ward A (3) and 'Not known' (3) suppressed, ward B (11) suppressed as their partner, so
    # that All - C = 57 - 40 = 17 = A + B + NK leaves each of them within [1, 15]. But the rates stayed:
    #   A = 36.7 x 8,180 / 100,000 = 3.002, and the rate is rounded, so A is within
    #       [36.65 x 0.0818, 36.75 x 0.0818] = [2.998, 3.006]: exactly 3;
    #   B = 122.2 x 9,000 / 100,000 within [10.99, 11.00]: exactly 11;
    #   and then NK = 57 - 40 - 3 - 11 = 3.
    truth = fte_rows(all_rate=209.7)
    old = as_published(FTE, hide_wards(truth, {"E05011234", "E05011235", "Not known"}))
    result = assert_caught(
        {"pub_youth_justice_fte": old},
        {},
        {
            ("pub_youth_justice_fte", "first_time_entrants", (Q, "E05011234")): (3, 3),
            ("pub_youth_justice_fte", "first_time_entrants", (Q, "E05011235")): (11, 11),
            ("pub_youth_justice_fte", "first_time_entrants", (Q, "Not known")): (3, 3),
        },
    )
    # and the structural check names the rates shown on suppressed counts
    for ward in ("E05011234", "E05011235"):
        assert findings_for(result, "pub_youth_justice_fte", "fte_rate_per_100k_10_17", (Q, ward))

    published, protection = assert_new_pipeline_safe({"pub_youth_justice_fte": Table(FTE, truth)})
    rows = published["pub_youth_justice_fte"].by_key
    assert rows[(Q, "E05011234")]["fte_rate_per_100k_10_17"] is None  # withheld with its count
    assert rows[(Q, "E05011236")]["fte_rate_per_100k_10_17"] == 400.0
    assert rows[(Q, "All")]["first_time_entrants"] == 57


def test_a_the_all_row_rate_on_the_all_count_recovers_nothing():
    # The exact case. The old SQL built the All row's rate on the Manchester wards only (54, without
    # 'Not known') over the city's population, beside the All count of 57 that includes 'Not known':
    #   198.7 x 27,180 / 100,000 = 54.007, within [198.65, 198.75] x 0.2718 = [53.99, 54.02]: 54,
    #   so 'Not known' = 57 - 54 = 3, though suppressed. No declaration can say "the All row's rate is on another
    #   count", so the declaration (rate on the count beside it) rejects the old SQL's output outright:
    old_rate = 198.7
    assert round(100000 * 54 / 27180, 1) == old_rate and round(old_rate * 27180 / 100000) == 54
    old = Table(FTE, fte_rows(all_rate=old_rate))
    with pytest.raises(disclosure.DeclarationError, match=r"pub_youth_justice_fte\.fte_rate_per_100k_10_17 at"):
        disclosure.check_relations(disclosure.build_system({"pub_youth_justice_fte": old}, include_rates=True))

    # The new SQL: the All rate is on the All count, so rate x population gives back 57, which is published:
    #   209.7 x 0.2718 = 57.00; nothing new. 'Not known' (3) and ward A (3) stay hidden among A + B + NK = 17.
    new_rate = 209.7
    assert round(100000 * 57 / 27180, 1) == new_rate and round(new_rate * 27180 / 100000) == 57
    truth = Table(FTE, fte_rows(all_rate=new_rate))
    disclosure.check_relations(disclosure.build_system({"pub_youth_justice_fte": truth}, include_rates=True))
    published, protection = assert_new_pipeline_safe({"pub_youth_justice_fte": truth})
    rows = published["pub_youth_justice_fte"].by_key
    assert rows[(Q, "Not known")]["first_time_entrants"] is None
    assert rows[(Q, "All")]["fte_rate_per_100k_10_17"] == new_rate  # its count is published: the rate may be
    assert intervals(published) == {}


def test_a_a_rate_that_contradicts_its_declaration_is_not_published():
    # The old SQL's All-row rate (198.7, on the 54 of the Manchester wards) beside the All count 57: protect then
    # apply publish it, and 198.7 x 0.2718 = 54 = 40 + A + B, so 'Not known' = 57 - 54 = 3 again. Either protect
    # should refuse the table (DeclarationError, as check_relations does with the rates in) or the audit fail.
    old = Table(FTE, fte_rows(all_rate=198.7))
    try:
        published, _, _ = run_new_pipeline({"pub_youth_justice_fte": old})
    except disclosure.DeclarationError:
        return
    assert not disclosure_audit.audit_tables(published, {}).ok


# -- b. the percentage of a suppressed group total ---------------------------------------------------------------

PROFILE = parse_declaration(
    "pub_serious_violence_profile",
    {
        "dims": ["financial_year_quarter", "role", "profile_dimension", "category"],
        "totals": {"category": "sum"},
        "counts": ["person_count"],
        "rates": {
            "pct_of_group": {
                "numerator": "person_count",
                "denominator": {"column": "person_count", "at": {"category": "All"}},
                "scale": 100,
            }
        },
    },
)


def profile_rows(counts: dict[tuple[str, str], int]) -> list[dict]:
    totals: dict[str, int] = {}
    for (dimension, _), n in counts.items():
        totals[dimension] = totals.get(dimension, 0) + n
    rows = []
    for (dimension, category), n in [*counts.items(), *(((d, "All"), t) for d, t in totals.items())]:
        rows.append(
            {
                "financial_year_quarter": Q,
                "role": "Victim",
                "profile_dimension": dimension,
                "category": category,
                "person_count": n,
                "pct_of_group": round(100 * n / totals[dimension], 1),
            }
        )
    return rows


def test_b_a_percentage_of_a_suppressed_group_total_gives_the_total_back():
    # Sex: Male 12, Female 2, All 14; age: 10-17 3, 18-24 5, 25+ 6, All 14 (the same 14 people).
    # Old publication: Female (2) suppressed with the group total (14) as its partner, and age's 3 and 5 with
    # 6 as partner: each group's published cells alone leave the suppressed ones wide open. But the shares stayed:
    #   Male is 85.7% of the total, so 100 x 12 / T is within [85.65, 85.75]: T within [13.99, 14.01], T = 14,
    #   and then Female = 14 - 12 = 2.
    #   Age: All = 14 is published; 10-17 is 21.4% of it: 14 x [0.2135, 0.2145] = [2.99, 3.00]: 3; 18-24 is
    #   35.7%: 14 x [0.3565, 0.3575] = [4.99, 5.01]: 5; 25+ = 14 - 3 - 5 = 6.
    counts = {
        ("sex", "Male"): 12,
        ("sex", "Female"): 2,
        ("age_band", "10-17"): 3,
        ("age_band", "18-24"): 5,
        ("age_band", "25+"): 6,
    }
    truth = profile_rows(counts)
    by_cat = {(r["profile_dimension"], r["category"]): r for r in truth}
    assert by_cat[("sex", "Male")]["pct_of_group"] == 85.7
    old_rows = []
    for r in truth:
        r = dict(r)
        if (r["profile_dimension"], r["category"]) in {("sex", "Female"), ("sex", "All")}:
            r["person_count"] = None
            r["pct_of_group"] = None  # the old scheme withheld a suppressed count's own share...
        if (r["profile_dimension"], r["category"]) in {
            ("age_band", "10-17"),
            ("age_band", "18-24"),
            ("age_band", "25+"),
        }:
            r["person_count"] = None  # ...but not the shares of the age bands
        old_rows.append(r)
    old = as_published(PROFILE, old_rows)
    t = "pub_serious_violence_profile"
    assert_caught(
        {t: old},
        {},
        {
            (t, "person_count", (Q, "Victim", "sex", "All")): (14, 14),
            (t, "person_count", (Q, "Victim", "sex", "Female")): (2, 2),
            (t, "person_count", (Q, "Victim", "age_band", "10-17")): (3, 3),
            (t, "person_count", (Q, "Victim", "age_band", "18-24")): (5, 5),
            (t, "person_count", (Q, "Victim", "age_band", "25+")): (6, 6),
        },
    )

    published, protection = assert_new_pipeline_safe({t: Table(PROFILE, truth)})
    for key, row in published[t].by_key.items():
        total_row = published[t].by_key[key[:3] + ("All",)]
        if row["person_count"] is None or total_row["person_count"] is None:
            assert row["pct_of_group"] is None  # a share on a suppressed count, or of a suppressed total


# -- c. two tables that add up -----------------------------------------------------------------------------------

QUARTERLY = parse_declaration(
    "pub_records_by_quarter",
    {"dims": ["financial_year_quarter", "ethnic_group"], "totals": {"ethnic_group": "sum"}, "counts": ["records"]},
)
YEARLY = parse_declaration(
    "pub_records_by_year",
    {
        "dims": ["financial_year", "ethnic_group"],
        "totals": {"ethnic_group": "sum"},
        "counts": ["records"],
        "links": [
            {
                "table": "pub_records_by_quarter",
                "column": "records",
                "to": "records",
                "where": "left(other.financial_year_quarter, 7) = this.financial_year "
                "and other.ethnic_group = this.ethnic_group",
            }
        ],
    },
)
GROUPS = ["Asian", "Black", "Mixed", "White"]
QUARTERS = ["2023-24 Q1", "2023-24 Q2", "2023-24 Q3", "2023-24 Q4"]
# records by quarter (rows) and ethnic group (columns)
QUARTERLY_COUNTS = {
    "2023-24 Q1": {"Asian": 25, "Black": 10, "Mixed": 4, "White": 60},
    "2023-24 Q2": {"Asian": 22, "Black": 15, "Mixed": 12, "White": 58},
    "2023-24 Q3": {"Asian": 30, "Black": 14, "Mixed": 11, "White": 64},
    "2023-24 Q4": {"Asian": 27, "Black": 16, "Mixed": 13, "White": 55},
}


def records_tables(hidden_quarters: set[tuple[str, str]] = frozenset()):
    quarterly, yearly = [], []
    for quarter, cells in QUARTERLY_COUNTS.items():
        for group, n in [*cells.items(), ("All", sum(cells.values()))]:
            hidden = (quarter, group) in hidden_quarters
            quarterly.append(
                {"financial_year_quarter": quarter, "ethnic_group": group, "records": None if hidden else n}
            )
    for group in [*GROUPS, "All"]:
        n = sum(sum(cells.values()) if group == "All" else cells[group] for cells in QUARTERLY_COUNTS.values())
        yearly.append({"financial_year": "2023-24", "ethnic_group": group, "records": n})
    pairs = {
        ("pub_records_by_year", 0): [(("2023-24", g), (q, g)) for g in [*GROUPS, "All"] for q in QUARTERS],
    }
    return quarterly, yearly, pairs


def test_c_a_yearly_table_minus_published_quarters_gives_a_suppressed_quarter_back():
    # Old publication: in the quarterly table, Q1's Mixed (4) suppressed with Black (10) as its partner in the
    # same quarter: Q1 All - Asian - White = 99 - 85 = 14 = Mixed + Black, each within [1, 13]. But the yearly
    # table (all its counts 10 or more, nothing suppressed) is the sum of the quarters:
    #   Mixed Q1 = Mixed year - Q2 - Q3 - Q4 = 40 - 12 - 11 - 13 = 4;
    #   Black Q1 = Black year - Q2 - Q3 - Q4 = 55 - 15 - 14 - 16 = 10.
    quarterly, yearly, pairs = records_tables({("2023-24 Q1", "Mixed"), ("2023-24 Q1", "Black")})
    old = {
        "pub_records_by_quarter": as_published(QUARTERLY, quarterly),
        "pub_records_by_year": as_published(YEARLY, yearly),
    }
    # without the link, the old quarterly table is safe on its own
    assert disclosure_audit.audit_tables({"pub_records_by_quarter": old["pub_records_by_quarter"]}, {}).ok
    assert_caught(
        old,
        pairs,
        {
            ("pub_records_by_quarter", "records", ("2023-24 Q1", "Mixed")): (4, 4),
            ("pub_records_by_quarter", "records", ("2023-24 Q1", "Black")): (10, 10),
        },
    )

    quarterly, yearly, pairs = records_tables()
    truth = {"pub_records_by_quarter": Table(QUARTERLY, quarterly), "pub_records_by_year": Table(YEARLY, yearly)}
    published, protection = assert_new_pipeline_safe(truth, pairs)
    # the Mixed quarter's yearly loop is closed: another Mixed quarter or the Mixed year goes too
    mixed = {("pub_records_by_quarter", "records", (q, "Mixed")) for q in QUARTERS[1:]}
    mixed.add(("pub_records_by_year", "records", ("2023-24", "Mixed")))
    assert mixed & protection.suppressed


# -- d. the cohort: match rates that are sums of overlap cells ---------------------------------------------------

OVERLAP = parse_declaration(
    "pub_cohort_overlap",
    {
        "dims": ["agency_combination", "age_band", "locality"],
        "totals": {"agency_combination": "sum", "age_band": "sum", "locality": "sum"},
        "counts": ["people"],
    },
)
MATCH_RATES = parse_declaration(
    "pub_cohort_match_rates",
    {
        "dims": ["agency"],
        "counts": ["people", "people_known_to_another_agency"],
        "complements": [{"part": "people_known_to_another_agency", "whole": "people"}],
        "rates": {
            "overlap_rate_pct": {"numerator": "people_known_to_another_agency", "denominator": "people", "scale": 100}
        },
        "links": [
            {"table": "pub_cohort_overlap", "column": "people", "to": "people", "where": "..."},
            {"table": "pub_cohort_overlap", "column": "people", "to": "people_known_to_another_agency", "where": "..."},
        ],
    },
)
COMBINATIONS = {
    "education": 25,
    "police": 30,
    "youth_justice": 20,
    "education+police": 2,
    "education+youth_justice": 3,
    "police+youth_justice": 4,
    "education+police+youth_justice": 12,
}
AGENCIES = ["education", "police", "youth_justice"]


def cohort_tables(hidden: set[str] = frozenset()):
    overlap = [
        {"agency_combination": c, "age_band": "All", "locality": "All", "people": None if c in hidden else n}
        for c, n in [*COMBINATIONS.items(), ("All", sum(COMBINATIONS.values()))]
    ]
    match = []
    for agency in AGENCIES:
        people = sum(n for c, n in COMBINATIONS.items() if agency in c.split("+"))
        known = sum(n for c, n in COMBINATIONS.items() if agency in c.split("+") and "+" in c)
        match.append(
            {
                "agency": agency,
                "people": people,
                "people_known_to_another_agency": known,
                "overlap_rate_pct": round(100 * known / people, 1),
            }
        )
    # the joined keys of the links' SQL conditions (every combination naming the agency; only shared ones)
    pairs = {
        ("pub_cohort_match_rates", 0): [
            ((a,), (c, "All", "All")) for a in AGENCIES for c in COMBINATIONS if a in c.split("+")
        ],
        ("pub_cohort_match_rates", 1): [
            ((a,), (c, "All", "All")) for a in AGENCIES for c in COMBINATIONS if a in c.split("+") and "+" in c
        ],
    }
    return overlap, match, pairs


def test_d_match_rates_that_sum_overlap_cells_give_them_back():
    # Old publication: the three pairs (education+police 2, education+youth_justice 3, police+youth_justice 4)
    # suppressed; on its own the overlap table gives only their sum, All - the rest = 96 - 87 = 9, each within
    # [1, 7]. But each agency's people known to another agency, in the match-rates table, is a sum of them:
    #   education: EP + EY + EPY = 17, so EP + EY = 5;   police: EP + PY = 18 - 12 = 6;
    #   youth_justice: EY + PY = 19 - 12 = 7. Three equations, three unknowns:
    #   EP = (5 + 6 - 7) / 2 = 2, EY = 5 - 2 = 3, PY = 6 - 2 = 4.
    pairs_hidden = {"education+police", "education+youth_justice", "police+youth_justice"}
    overlap, match, pairs = cohort_tables(pairs_hidden)
    old = {
        "pub_cohort_overlap": as_published(OVERLAP, overlap),
        "pub_cohort_match_rates": as_published(MATCH_RATES, match),
    }
    assert disclosure_audit.audit_tables({"pub_cohort_overlap": old["pub_cohort_overlap"]}, {}).ok
    t = "pub_cohort_overlap"
    assert_caught(
        old,
        pairs,
        {
            (t, "people", ("education+police", "All", "All")): (2, 2),
            (t, "people", ("education+youth_justice", "All", "All")): (3, 3),
            (t, "people", ("police+youth_justice", "All", "All")): (4, 4),
        },
    )

    overlap, match, pairs = cohort_tables()
    truth = {"pub_cohort_overlap": Table(OVERLAP, overlap), "pub_cohort_match_rates": Table(MATCH_RATES, match)}
    published, protection = assert_new_pipeline_safe(truth, pairs)
    # the linked counts of the match-rates table take part in the protection
    assert any(c[0] == "pub_cohort_match_rates" for c in protection.suppressed)


# -- e. secondary suppression too weak ---------------------------------------------------------------------------

AREAS = parse_declaration("pub_cases_by_area", {"dims": ["area"], "totals": {"area": "sum"}, "counts": ["cases"]})


def test_e_two_suppressed_ones_under_a_published_total_are_each_exactly_one():
    # Old publication: total 40, with 20 and 18 published and the two 1s suppressed (each the other's partner):
    #   C + D = 40 - 20 - 18 = 2, and a suppressed count is at least 1 (zeros are published): C = D = 1.
    rows = [{"area": a, "cases": n} for a, n in [("A", 20), ("B", 18), ("C", 1), ("D", 1), ("All", 40)]]
    old = as_published(AREAS, [{**r, "cases": None} if r["area"] in ("C", "D") else r for r in rows])
    t = "pub_cases_by_area"
    assert_caught({t: old}, {}, {(t, "cases", ("C",)): (1, 1), (t, "cases", ("D",)): (1, 1)})

    published, protection = assert_new_pipeline_safe({t: Table(AREAS, rows)})
    # C + D + a third cell: the smallest that makes the width, B (18)
    assert protection.suppressed_in(t, "cases") == {("C",), ("D",), ("B",)}


# -- f. a complement in one row ----------------------------------------------------------------------------------

ASB = parse_declaration(
    "pub_asb_requests_by_month",
    {
        "dims": ["financial_year", "month", "category"],
        "totals": {"month": "sum", "category": "sum"},
        "counts": ["requests", "covid_related_requests"],
        "complements": [{"part": "covid_related_requests", "whole": "requests"}],
        "rates": {
            "covid_related_pct": {"numerator": "covid_related_requests", "denominator": "requests", "scale": 100}
        },
    },
)
ASB_CELLS = {  # (month, category): (requests, covid related)
    ("2020-04", "Noise"): (50, 48),
    ("2020-04", "Nuisance"): (35, 20),
    ("2020-05", "Noise"): (41, 30),
    ("2020-05", "Nuisance"): (44, 25),
}


def asb_rows() -> list[dict]:
    def add(pairs):
        pairs = list(pairs)
        return (sum(r for r, _ in pairs), sum(c for _, c in pairs))

    cells = dict(ASB_CELLS)
    for month in ("2020-04", "2020-05"):
        cells[(month, "All")] = add(v for (m, _), v in ASB_CELLS.items() if m == month)
    for category in ("Noise", "Nuisance"):
        cells[("All", category)] = add(v for (_, c), v in ASB_CELLS.items() if c == category)
    cells[("All", "All")] = add(ASB_CELLS.values())
    return [
        {
            "financial_year": "2020-21",
            "month": m,
            "category": c,
            "requests": r,
            "covid_related_requests": cv,
            "covid_related_pct": round(100 * cv / r, 1),
        }
        for (m, c), (r, cv) in cells.items()
    ]


def test_f_a_part_and_its_whole_in_one_row_give_the_rest_back():
    # Old publication: every count here is 10 or more, so nothing was suppressed. But the declaration says covid
    # related requests are part of requests, and in April's noise row the rest is small:
    #   non-covid = requests - covid related = 50 - 48 = 2, a count from 1 to 9 published by difference.
    t = "pub_asb_requests_by_month"
    rows = asb_rows()
    old = as_published(ASB, rows)
    assert_caught({t: old}, {}, {(t, "requests - covid_related_requests", ("2020-21", "2020-04", "Noise")): (2, 2)})

    # no count from 1 to 9 here: the new pipeline protects the small hidden complement
    published, protection = assert_new_pipeline_safe({t: Table(ASB, rows)}, small_counts=False)
    assert protection.suppressed, "the small complement needs a suppressed count"
    noise = published[t].by_key[("2020-21", "2020-04", "Noise")]
    assert noise["requests"] is None or noise["covid_related_requests"] is None
    assert noise["covid_related_pct"] is None


REPEAT = parse_declaration(
    "pub_repeat_victimisation",
    {
        "dims": ["financial_year_quarter", "category_scheme", "crime_category"],
        "totals": {"crime_category": {"crimes": "sum", "victims": "distinct", "repeat_victims": "distinct"}},
        "counts": ["crimes", "victims", "repeat_victims"],
        "complements": [{"part": "repeat_victims", "whole": "victims"}],
        "rates": {"repeat_rate_pct": {"numerator": "repeat_victims", "denominator": "victims", "scale": 100}},
    },
)


def repeat_rows() -> list[dict]:
    cells = {  # crime category: (crimes, victims, repeat victims)
        "Burglary": (48, 30, 27),
        "Robbery": (40, 31, 12),
        "Theft": (90, 70, 20),
        "All": (178, 120, 50),  # victims of two categories count once in All
    }
    return [
        {
            "financial_year_quarter": Q,
            "category_scheme": "offence_group",
            "crime_category": c,
            "crimes": n,
            "victims": v,
            "repeat_victims": rv,
            "repeat_rate_pct": round(100 * rv / v, 1),
        }
        for c, (n, v, rv) in cells.items()
    ]


def test_f_victims_minus_repeat_victims_gives_the_single_victims_back():
    # Old publication: nothing under 10, nothing suppressed. But burglary's victims who were not repeat victims
    #   = victims - repeat victims = 30 - 27 = 3.
    t = "pub_repeat_victimisation"
    rows = repeat_rows()
    key = (Q, "offence_group", "Burglary")
    assert_caught({t: as_published(REPEAT, rows)}, {}, {(t, "victims - repeat_victims", key): (3, 3)})

    published, protection = assert_new_pipeline_safe({t: Table(REPEAT, rows)}, small_counts=False)
    burglary = published[t].by_key[key]
    assert burglary["victims"] is None or burglary["repeat_victims"] is None
    assert burglary["repeat_rate_pct"] is None


# -- g. a label or a rate shown beside a suppressed count --------------------------------------------------------

SCORECARD = parse_declaration(
    "pub_partnership_scorecard",
    {
        "dims": ["kpi_code", "financial_year_quarter", "geography"],
        "totals": {"geography": "sum"},
        "total_value": "Manchester",
        "counts": ["numerator", "denominator"],
        "rates": {"value": {"inputs": ["numerator", "denominator"]}},
        "labels": {"rag": "value"},
    },
)


def scorecard_rows() -> list[dict]:
    cells = {"Central": (4, 50), "North": (12, 60), "South": (30, 70), "Manchester": (46, 180)}
    return [
        {
            "kpi_code": "YJ01",
            "financial_year_quarter": Q,
            "geography": g,
            "numerator": n,
            "denominator": d,
            "value": round(100 * n / d, 1),
            "rag": "Red" if n / d > 0.1 else "Green",
        }
        for g, (n, d) in cells.items()
    ]


def test_g_a_label_or_a_value_shown_beside_a_suppressed_count():
    # Old publication: Central's numerator (4) and North's (12, its partner) suppressed. Central's value stayed
    # (8.0% of 50 is 4), and North's value was withheld but its RAG rating stayed (Red: the rate is over 10%).
    t = "pub_partnership_scorecard"
    old_rows = []
    for r in scorecard_rows():
        r = dict(r)
        if r["geography"] in ("Central", "North"):
            r["numerator"] = None
        if r["geography"] == "North":
            r["value"] = None
        old_rows.append(r)
    result = disclosure_audit.audit_tables({t: as_published(SCORECARD, old_rows)}, {})
    assert not result.ok
    assert findings_for(result, t, "value", ("YJ01", Q, "Central")) == [
        f"{t}.value at ('YJ01', '{Q}', 'Central'): shown, but numerator at ('YJ01', '{Q}', 'Central') is suppressed"
    ]
    assert findings_for(result, t, "rag", ("YJ01", Q, "North")) == [
        f"{t}.rag at ('YJ01', '{Q}', 'North'): shown, but value is withheld"
    ]
    assert len(result.findings) == 2  # both counts are otherwise safe: 46 - 30 = 16 = Central + North

    published, protection = assert_new_pipeline_safe({t: Table(SCORECARD, scorecard_rows())})
    for row in published[t].rows:
        if row["numerator_suppressed"] or row["denominator_suppressed"]:
            assert row["value"] is None and row["rag"] is None
        else:
            assert row["value"] is not None and row["rag"] is not None


# -- the pipeline itself -----------------------------------------------------------------------------------------

GRID = parse_declaration(
    "pub_grid",
    {"dims": ["area", "offence"], "totals": {"area": "sum", "offence": "sum"}, "counts": ["crimes"]},
)
GRID_CELLS = {
    ("A", "X"): 5, ("A", "Y"): 20, ("A", "Z"): 14,
    ("B", "X"): 30, ("B", "Y"): 2, ("B", "Z"): 16,
    ("C", "X"): 12, ("C", "Y"): 3, ("C", "Z"): 11,
}  # fmt: skip


def grid_rows() -> list[dict]:
    cells = dict(GRID_CELLS)
    for a in "ABC":
        cells[(a, "All")] = sum(n for (a2, _), n in GRID_CELLS.items() if a2 == a)
    for o in "XYZ":
        cells[("All", o)] = sum(n for (_, o2), n in GRID_CELLS.items() if o2 == o)
    cells[("All", "All")] = sum(GRID_CELLS.values())
    return [{"area": a, "offence": o, "crimes": n} for (a, o), n in cells.items()]


def test_protect_is_deterministic_whatever_the_row_order():
    rows = grid_rows()
    first = disclosure.protect(disclosure.build_system({"pub_grid": Table(GRID, rows)}))
    assert first.primary == {("pub_grid", "crimes", k) for k in [("A", "X"), ("B", "Y"), ("C", "Y")]}
    for seed in range(5):
        shuffled = [dict(r) for r in rows]
        random.Random(seed).shuffle(shuffled)
        again = disclosure.protect(disclosure.build_system({"pub_grid": Table(GRID, shuffled)}))
        assert again.suppressed == first.suppressed
        assert again.primary == first.primary
    published = {"pub_grid": Table(GRID, disclosure.apply(Table(GRID, rows), first), published=True)}
    assert disclosure_audit.audit_tables(published, {}).ok


def test_a_declared_relation_the_data_breaks_is_a_declaration_error_naming_the_table():
    rows = grid_rows()
    for r in rows:
        if (r["area"], r["offence"]) == ("All", "All"):
            r["crimes"] += 1  # the grand total is not the sum of its parts
    system = disclosure.build_system({"pub_grid": Table(GRID, rows)}, include_rates=False)
    with pytest.raises(disclosure.DeclarationError, match=r"pub_grid\.crimes: total along"):
        disclosure.protect(system)

    # a part larger than its whole: a negative complement
    rows = repeat_rows()
    rows[0]["repeat_victims"] = rows[0]["victims"] + 1
    system = disclosure.build_system({"pub_repeat_victimisation": Table(REPEAT, rows)}, include_rates=False)
    with pytest.raises(disclosure.DeclarationError, match="pub_repeat_victimisation"):
        disclosure.protect(system)
