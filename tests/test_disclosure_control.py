"""Disclosure control (partnership.disclosure) on hand-worked tables: counts from 1 to 9 are suppressed, and
enough other cells that the attacker's audit cannot narrow any suppressed count below the protection width.
The leaks the old suppression let through are in test_disclosure_leaks.py; random tables in
test_disclosure_properties.py."""

import json

import pytest

from partnership import disclosure, publish
from partnership.disclosure import solver
from partnership.disclosure_audit import audit_tables

# Area x offence with totals. Primary: A/X (5) and C/Y (3).
CELLS = {
    ("A", "X"): 5, ("A", "Y"): 20, ("A", "All"): 25,
    ("B", "X"): 30, ("B", "Y"): 40, ("B", "All"): 70,
    ("C", "X"): 12, ("C", "Y"): 3, ("C", "All"): 15,
    ("All", "X"): 47, ("All", "Y"): 63, ("All", "All"): 110,
}  # fmt: skip
DECLARATION = {
    "dims": ["area", "offence"],
    "totals": {"area": "sum", "offence": "sum"},
    "counts": ["crimes"],
    "rates": {"crimes_per_1000": {"numerator": "crimes", "denominator": "population", "scale": 1000}},
}


def publish_cells(cells, declaration=DECLARATION):
    d = disclosure.parse_declaration("cells", declaration)
    rows = [
        {"area": a, "offence": o, "crimes": n, "population": 2000, "crimes_per_1000": n / 2}
        for (a, o), n in cells.items()
    ]
    truth = disclosure.Table(d, rows)
    protection = disclosure.protect(disclosure.build_system({"cells": truth}, include_rates=False))
    published = disclosure.Table(d, disclosure.apply(truth, protection), published=True)
    return {d.key(r): r for r in published.rows}, published


def test_small_counts_and_enough_others_are_suppressed():
    published, table = publish_cells(CELLS)
    suppressed = {key for key, row in published.items() if row["crimes_suppressed"]}
    # The rectangle A/X, A/Y, C/X, C/Y would do against a reader who only adds up, but one who replays the
    # protection knows C/X (12) was not small, so C/Y = 15 - C/X is at most 5: too narrow. Instead B/X, B/Y and
    # the A and C totals: then A/X + C/Y = 8, so each could be anything from 1 to 7, even to that reader.
    assert suppressed == {("A", "X"), ("C", "Y"), ("B", "X"), ("B", "Y"), ("A", "All"), ("C", "All")}
    for key, row in published.items():
        if row["crimes_suppressed"]:
            assert row["crimes"] is None and row["crimes_per_1000"] is None  # the rate would give it back
        else:
            assert row["crimes"] == CELLS[key] and row["crimes_per_1000"] == pytest.approx(CELLS[key] / 2)
    assert audit_tables({"cells": table}, {}).ok


def test_a_partner_too_small_to_protect_is_not_enough():
    # Row C: 12 and 3. Pairing 3 with a 1 would let a reader narrow it to [1, 3]: the partner must be big enough.
    cells = {("A", "X"): 1, ("A", "Y"): 2, ("A", "All"): 3, ("B", "X"): 50, ("B", "Y"): 60, ("B", "All"): 110,
             ("All", "X"): 51, ("All", "Y"): 62, ("All", "All"): 113}  # fmt: skip
    published, table = publish_cells(cells)
    assert audit_tables({"cells": table}, {}).ok
    assert published[("A", "All")]["crimes"] is None  # 3 is small itself
    assert sum(row["crimes_suppressed"] for row in published.values()) > 3


def test_a_count_of_zero_is_published():
    published, _ = publish_cells({("A", "X"): 0, ("A", "All"): 0, ("All", "X"): 0, ("All", "All"): 0})
    assert all(row["crimes"] == 0 and not row["crimes_suppressed"] for row in published.values())


def test_every_real_publish_model_declares_relations_the_engine_accepts(dbt_manifest):
    decls = publish.declarations(json.loads(dbt_manifest.read_text()))
    assert len(decls) >= 15
    for d in decls.values():
        assert d.threshold == 9 and d.protection_width == 5  # IG's defaults unless a model says otherwise
        assert d.totals or d.links or len(d.dims) == 1, f"{d.table} declares no relation between its cells"


def test_a_declaration_without_counts_is_refused():
    with pytest.raises(disclosure.DeclarationError, match="pub_x needs config.meta.disclosure"):
        disclosure.parse_declaration("pub_x", {"dims": ["ward_code"]})
    with pytest.raises(disclosure.DeclarationError, match="not a count"):
        disclosure.parse_declaration(
            "pub_x", {"dims": ["w"], "counts": ["n"], "rates": {"r": {"numerator": "m", "denominator": "n"}}}
        )


def test_a_reader_who_replays_the_protection_learns_nothing_narrower():
    # Three small cells (9, 8, 9) next to 40 and 50 in a row of 116: hiding the three is enough against a reader
    # who only subtracts (26 between them: each from 1 to 24). But the protection is public: a reader who runs
    # it on every table they think possible sees that a cell of 10 or more would have been shown, so all three
    # are from 1 to 9, and each is then at least 26 - 18 = 8. The protection assumes that reader.
    d = disclosure.parse_declaration("row", {"dims": ["k"], "totals": {"k": "sum"}, "counts": ["n"]})
    values = {"All": 116, "a": 9, "b": 8, "c": 9, "d": 40, "e": 50}
    truth = disclosure.Table(d, [{"k": k, "n": n} for k, n in values.items()])
    system = disclosure.build_system({"row": truth}, include_rates=False)
    protection = disclosure.protect(system)
    assert protection.suppressed > protection.primary  # a 40 or 50 had to go too
    # The reader who knows which hidden cells are small: every interval at least the width.
    for cells, relations in disclosure.components(system, set(protection.suppressed)):
        assert solver._solve_component(system, cells, relations, system.values, protection.primary) == []
    # Without the extra cell that reader narrows each small one to [8, 9].
    narrowed = {
        e.cell[2][0]: (e.low, e.high)
        for cells, relations in disclosure.components(system, set(protection.primary))
        for e in solver._solve_component(system, cells, relations, system.values, protection.primary)
    }
    assert narrowed == {"a": (8.0, 9.0), "b": (8.0, 9.0), "c": (8.0, 9.0)}


def test_a_slice_suppression_cannot_protect_is_withheld_whole_and_the_rest_published():
    # Autumn: six schools with one permanent exclusion each. All seven counts are small; a reader who replays the
    # protection knows each is 1 to 9 and the total is the sum of six of them, so the total lies in [6, 9]: too
    # narrow, and no cell is left to suppress. The Autumn rows are withheld whole instead (a withheld count may
    # be 0); Spring, with large counts, is published as usual.
    declaration = {"dims": ["term", "school"], "totals": {"school": "sum"}, "counts": ["exclusions"]}
    d = disclosure.parse_declaration("pub_terms", declaration)
    cells = {("Autumn", f"s{i}"): 1 for i in range(1, 7)} | {("Autumn", "s7"): 0, ("Autumn", "All"): 6}
    cells |= {("Spring", f"s{i}"): 20 + i for i in range(1, 8)} | {("Spring", "All"): sum(20 + i for i in range(1, 8))}
    rows = [{"term": t, "school": s, "exclusions": n} for (t, s), n in cells.items()]
    truth = disclosure.Table(d, rows)
    protection = disclosure.protect(disclosure.build_system({"pub_terms": truth}, include_rates=False))
    published = disclosure.Table(d, disclosure.apply(truth, protection), published=True)

    autumn = [row for key, row in published.by_key.items() if key[0] == "Autumn"]
    assert all(row["counts_withheld"] and row["exclusions"] is None for row in autumn)  # the zero too
    spring = [row for key, row in published.by_key.items() if key[0] == "Spring"]
    assert all(not row["counts_withheld"] and row["exclusions"] == cells[("Spring", row["school"])] for row in spring)
    assert audit_tables({"pub_terms": published}, {}).ok


def test_the_audit_still_narrows_a_withheld_slice_a_reader_could_work_out():
    # A withheld row is no licence: if a published total gives a withheld count back, the audit says so.
    d = disclosure.parse_declaration("pub_t", {"dims": ["school"], "totals": {"school": "sum"}, "counts": ["n"]})
    rows = [
        {"school": "a", "n": None, "n_suppressed": True, "counts_withheld": True},
        {"school": "b", "n": 40, "n_suppressed": False, "counts_withheld": False},
        {"school": "All", "n": 43, "n_suppressed": False, "counts_withheld": False},
    ]
    result = audit_tables({"pub_t": disclosure.Table(d, rows, published=True)}, {})
    assert any("pub_t.n at ('a',): narrowed exactly to 3" in f for f in result.findings)


def test_two_linked_sparse_slices_are_both_withheld_and_the_run_goes_on():
    # Excluded pupils by school and by reason, the two term totals declared equal. Each Autumn is five 1s: once
    # one Autumn is withheld the other is still exposed through the link, so its slice is withheld in turn.
    def term_rows(dim, prefix, autumn):
        cells = {("Autumn", f"{prefix}{i}"): v for i, v in enumerate(autumn, 1)} | {("Autumn", "All"): sum(autumn)}
        spring = [20 + i for i in range(len(autumn))]
        cells |= {("Spring", f"{prefix}{i}"): v for i, v in enumerate(spring, 1)} | {("Spring", "All"): sum(spring)}
        return [{"term": t, dim: k, "n": v} for (t, k), v in cells.items()]

    by_school = disclosure.parse_declaration(
        "p", {"dims": ["term", "school"], "totals": {"school": "sum"}, "counts": ["n"]}
    )
    by_reason = disclosure.parse_declaration(
        "q",
        {
            "dims": ["term", "reason"],
            "totals": {"reason": "sum"},
            "counts": ["n"],
            "links": [
                {"table": "p", "column": "n", "to": "n", "where": "this.reason = 'All' and other.school = 'All'"}
            ],
        },
    )
    truth = {
        "p": disclosure.Table(by_school, term_rows("school", "s", [1] * 5)),
        "q": disclosure.Table(by_reason, term_rows("reason", "r", [1] * 5)),
    }
    pairs = {("q", 0): [(("Autumn", "All"), ("Autumn", "All")), (("Spring", "All"), ("Spring", "All"))]}
    protection = disclosure.protect(disclosure.build_system(truth, pairs, include_rates=False))
    published = {
        n: disclosure.Table(t.declaration, disclosure.apply(t, protection), published=True) for n, t in truth.items()
    }
    for table in published.values():
        assert all(row["counts_withheld"] == (row["term"] == "Autumn") for row in table.rows)
    assert audit_tables(published, pairs).ok


def test_with_totals_on_every_dim_only_the_sparse_row_is_withheld_not_the_table():
    # Area x offence with totals on both: area A is five offences of 1. Withholding "the rows sharing the other
    # dims" would be the whole table; only the rows of the smallest sum the exposed cell is in are withheld
    # (the areas' totals and theirs), and the offences of B and C still publish.
    offences = ["o1", "o2", "o3", "o4", "o5"]
    grid = {"A": [1] * 5, "B": [30, 31, 32, 33, 34], "C": [40, 41, 42, 43, 44]}
    cells = {}
    for area, values in grid.items():
        cells |= dict(zip([(area, o) for o in offences], values, strict=True)) | {(area, "All"): sum(values)}
    for o in [*offences, "All"]:
        cells[("All", o)] = sum(cells[(a, o)] for a in grid)
    declaration = {"dims": ["area", "offence"], "totals": {"area": "sum", "offence": "sum"}, "counts": ["crimes"]}
    published, table = publish_cells(cells, declaration)
    withheld = {key for key, row in published.items() if row["counts_withheld"]}
    assert ("A", "All") in withheld and len(withheld) < len(cells) / 4
    assert any(row["crimes"] is not None for key, row in published.items() if key[0] in ("B", "C"))
    assert audit_tables({"cells": table}, {}).ok


def test_a_small_count_in_no_relation_is_still_suppressed():
    # A count column with no total, complement or link (one row per quarter, say) is in no equation, but a small
    # count in it is still small.
    d = disclosure.parse_declaration("pub_q", {"dims": ["quarter"], "counts": ["homicides"]})
    truth = disclosure.Table(d, [{"quarter": "Q1", "homicides": 5}, {"quarter": "Q2", "homicides": 40}])
    protection = disclosure.protect(disclosure.build_system({"pub_q": truth}, include_rates=False))
    published = disclosure.Table(d, disclosure.apply(truth, protection), published=True)
    assert [row["homicides"] for row in published.rows] == [None, 40]
    assert audit_tables({"pub_q": published}, {}).ok
